/**
 * A complete, realistic Trust Report for the demo tenant (`warden report --sample`, tests, template
 * work). The figures agree with each other: signatures = tree growth, denials = budget denials,
 * time saved = runs × (baseline − mean) for playbooks with a baseline.
 */
import { createHash } from 'node:crypto';
import { type TrustReport, type TrustReportInput, trustReportSchema } from './report-model.js';

const at = (day: number, time: string) => `2026-11-${String(day).padStart(2, '0')}T${time}:00Z`;
const origin = 'warden.acme.example/acme';
const digest = (algorithm: string, seed: string) => createHash(algorithm).update(seed).digest();
const hash = (seed: string) => digest('sha256', seed).toString('base64');
/** A signed-note signature line's payload: 4-byte key hash, then a 64-byte Ed25519 signature. */
const signature = (seed: string) =>
  Buffer.concat([digest('sha256', origin).subarray(0, 4), digest('sha512', seed)]).toString(
    'base64',
  );

const note = (size: number, root: string, sig: string) =>
  `${origin}\n${size}\n${hash(root)}\n\n— ${origin} ${signature(sig)}\n`;

const approvals: [number, string, string, string, string[]][] = [
  [
    16,
    '03:12',
    'failover-db-replica',
    'promote-replica',
    ['alice@acme.example', 'omar@acme.example'],
  ],
  [16, '14:40', 'scale-checkout', 'scale-deployment', ['jin@acme.example', 'alice@acme.example']],
  [17, '09:05', 'drain-node', 'cordon-and-drain', ['priya@acme.example', 'omar@acme.example']],
  [
    18,
    '22:31',
    'failover-db-replica',
    'promote-replica',
    ['omar@acme.example', 'jin@acme.example'],
  ],
  [
    19,
    '11:18',
    'rotate-ingest-credentials',
    'rotate-secret',
    ['priya@acme.example', 'lena@acme.example'],
  ],
  [20, '16:52', 'scale-checkout', 'scale-deployment', ['lena@acme.example', 'alice@acme.example']],
  [
    21,
    '04:47',
    'failover-db-replica',
    'promote-replica',
    ['jin@acme.example', 'priya@acme.example'],
  ],
  [22, '19:03', 'drain-node', 'cordon-and-drain', ['alice@acme.example', 'lena@acme.example']],
];

const sample: TrustReportInput = {
  schemaVersion: 1,
  tenant: { id: 'acme', name: 'Acme Payments', tier: 'enterprise' },
  week: { iso: '2026-W47', start: '2026-11-16', end: '2026-11-22' },
  generatedAt: '2026-11-23T06:00:00Z',
  slo: {
    alertsFired: 137,
    alertsResolved: 131,
    mttm: [
      {
        playbook: 'restart-ingest',
        runs: 41,
        meanMinutes: 4.2,
        medianMinutes: 3.5,
        baselineMinutes: 38,
      },
      {
        playbook: 'rotate-stuck-jobs',
        runs: 23,
        meanMinutes: 2.1,
        medianMinutes: 1.8,
        baselineMinutes: 22,
      },
      {
        playbook: 'scale-checkout',
        runs: 17,
        meanMinutes: 6.8,
        medianMinutes: 5.9,
        baselineMinutes: 45,
      },
      {
        playbook: 'clear-disk-pressure',
        runs: 12,
        meanMinutes: 3.4,
        medianMinutes: 3,
        baselineMinutes: null,
      },
      {
        playbook: 'failover-db-replica',
        runs: 3,
        meanMinutes: 14.6,
        medianMinutes: 12,
        baselineMinutes: 90,
      },
    ],
    topIncidents: [
      { alertname: 'IngestLagHigh', count: 38, firstAt: at(16, '02:14'), mitigated: true },
      { alertname: 'JobQueueStuck', count: 23, firstAt: at(16, '05:40'), mitigated: true },
      { alertname: 'CheckoutLatencyP99High', count: 17, firstAt: at(16, '14:31'), mitigated: true },
      { alertname: 'NodeDiskPressure', count: 12, firstAt: at(17, '08:55'), mitigated: true },
      { alertname: 'ReplicaLagCritical', count: 3, firstAt: at(16, '03:02'), mitigated: true },
      {
        alertname: 'CertificateExpiringSoon',
        count: 2,
        firstAt: at(19, '07:00'),
        mitigated: false,
      },
    ],
  },
  coverage: { routineEvents: 142, autoResolved: 97, share: 97 / 142, goal: 0.6 },
  privileged: {
    actions: approvals.map(([d, time, playbook, step, approvers], i) => ({
      at: at(d, time),
      playbook,
      step,
      requestedBy: 'trigger:alertmanager',
      approvers,
      dualControl: true,
      receiptId: `r_${(0x5f3a9c21 + i * 7919).toString(16)}`,
    })),
    adherence: { actions: 8, dualControlled: 8, share: 1 },
  },
  keys: { keyId: 'ed25519:9f2c41d07be3a5e1', rotations: 0, signatures: 1284 },
  retention: { manifests: [] },
  anchoring: {
    checkpoints: 168,
    treeSize: 48213,
    proofsServed: 312,
    lagSeconds: 42,
    checkpoint: note(48213, 'w47', 'a'),
    consistency: {
      fromSize: 46929,
      toSize: 48213,
      previousCheckpoint: note(46929, 'w46', 'b'),
      hashes: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map(hash),
    },
  },
  isolation: {
    checks: [
      {
        name: 'Cross-tenant receipt read',
        passed: true,
        detail: '24 probes with another tenant’s token: all 404',
      },
      {
        name: 'Cross-tenant approval from a foreign Slack team',
        passed: true,
        detail: '6 attempts rejected',
      },
      {
        name: 'Token scope escalation (ingest → admin)',
        passed: true,
        detail: '12 requests: all 403',
      },
      {
        name: 'Checkpoint signed for another origin',
        passed: true,
        detail: 'Signature does not verify',
      },
    ],
    tokens: [
      { scope: 'ingest', count: 3 },
      { scope: 'read', count: 2 },
      { scope: 'admin', count: 1 },
    ],
  },
  guardrails: {
    budgetDenials: 19,
    byReason: [
      { reason: 'Actions per hour exceeded', count: 11 },
      { reason: 'Blast radius over 5 targets', count: 5 },
      { reason: 'Environment not allowed (production-eu)', count: 3 },
    ],
    autoDisables: [
      {
        at: at(20, '17:26'),
        playbook: 'scale-checkout',
        reason: 'Alert re-fired 6 min after a successful mitigation (SLO correlation)',
        receiptId: 'r_5f3ba4e0',
      },
    ],
  },
  timeSaved: {
    minutes: 2719,
    byPlaybook: [
      { playbook: 'restart-ingest', runs: 41, minutes: 1386 },
      { playbook: 'scale-checkout', runs: 17, minutes: 649 },
      { playbook: 'rotate-stuck-jobs', runs: 23, minutes: 458 },
      { playbook: 'failover-db-replica', runs: 3, minutes: 226 },
    ],
  },
  runsByDay: [
    [18, 1, 3, 0],
    [15, 0, 4, 1],
    [12, 2, 2, 0],
    [16, 0, 5, 0],
    [14, 1, 3, 1],
    [9, 0, 1, 0],
    [12, 0, 1, 1],
  ].map(([succeeded = 0, failed = 0, denied = 0, awaiting = 0], i) => ({
    day: `2026-11-${16 + i}`,
    succeeded,
    failed,
    denied,
    awaiting,
  })),
  disclosure: {
    audience: 'security-leadership',
    disclosed: ['playbook names', 'alert names', 'approver identities', 'receipt ids'],
    withheld: ['step inputs and outputs', 'alert labels and payloads'],
  },
};

/**
 * A fresh copy of the sample report, validated.
 * @example
 * const html = renderReportHtml(sampleTrustReport());
 */
export function sampleTrustReport(): TrustReport {
  return trustReportSchema.parse(structuredClone(sample));
}
