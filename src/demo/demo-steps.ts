/**
 * Demo steps: the five steps of `warden demo`, each narrated and each checking its own evidence,
 * plus the preparation before them (the demo playbooks exist and are enabled).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../config.js';
import { WardenError } from '../errors.js';
import type { JsonValue } from '../ledger/receipt.js';
import { checkManifest } from '../posture/manifest.js';
import { isoWeekOf } from '../reports/iso-week.js';
import { fireAlert, followRun, type RunView } from './demo-runs.js';
import type { ApiReceipt, DemoSession } from './demo-session.js';
import type { WardenApi } from './warden-api.js';

const demoPlaybooks = ['receipt-lag', 'metering-lag', 'cache-purge'];
const _ms = (n: number | null) => (n === null ? '' : `${n} ms`);
const _seconds = (from: string, to: string | null) =>
  to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s` : '';

interface PlaybookRow {
  name: string;
  disabled: boolean;
  disabledReason: string | null;
}

export interface MetricsSummary {
  runs: Record<string, number>;
  approvalsPending: number;
  timeSavedMinutes: number;
  coverage: { share: number | null; autoResolved: number; routineEvents: number };
  budget: { actions: number; denied: number };
  autoDisabled: Array<{ receiptId: string; at: string; playbook: string; reason: string }>;
}

/** Checks that the Warden runs the demo config and enables any demo playbook left disabled. */
export async function prepare(s: DemoSession): Promise<void> {
  const { api, tenant, out } = s;
  const { playbooks } = await api.get<{ playbooks: PlaybookRow[] }>('/api/v1/playbooks');
  const missing = demoPlaybooks.filter((n) => !playbooks.some((p) => p.name === n));
  if (missing.length > 0) {
    throw new WardenError(
      'not_ready',
      `Tenant ${tenant} has no playbook ${missing.join(', ')}: this Warden does not run the demo config (examples/warden.yaml).`,
    );
  }
  for (const p of playbooks.filter((p) => demoPlaybooks.includes(p.name) && p.disabled)) {
    await api.post(`/api/v1/playbooks/${p.name}/enable`, { reason: 'warden demo: a fresh start' });
    out(`  (re-enabled ${p.name}, disabled earlier: ${p.disabledReason ?? 'no reason given'})`);
  }
}

/** Step 1: ReceiptLag → receipt-lag; its receipts proved, the bundle verified offline. */
export async function receiptLagStep(
  s: DemoSession,
): Promise<{ run: RunView; receiptsProved: number; bundleVerified: boolean }> {
  const { api, tokens, tenant, out } = s;
  out('');
  out('[1/5] A ReceiptLag alert: receipt-lag runs under its budgets, every step receipted');
  const lag = await fireAlert(
    api,
    tokens,
    tenant,
    { alertname: 'ReceiptLag', shard: '3', severity: 'critical' },
    { summary: 'Receipts are two minutes behind on shard 3' },
  );
  out(
    `  → Alertmanager posted ReceiptLag{shard="3"} to /hooks/${tenant}/alertmanager: trigger ${lag.triggerId}, run ${lag.runs.join(', ') || 'none'}`,
  );
  const receiptRunId = lag.runs[0];
  if (!receiptRunId) throw new WardenError('invalid', 'ReceiptLag started no run.');
  const receiptRun = await s.follow(receiptRunId);
  s.printRun(receiptRun);
  const bundlePath = join(s.outDir, `${tenant}-bundle.json`);
  const bundle = await api.get<unknown>('/api/v1/export');
  await writeFile(bundlePath, `${JSON.stringify(bundle)}\n`);
  const receipts = await s.receiptsOf(receiptRun.id);
  out(
    `  receipts of the run (${receipts.length}), each anchored in ${tenant}'s Merkle log and proved here:`,
  );
  const receiptsProved = await s.proveReceipts(receipts);
  const verifier = resolve(packageRoot, 'docs/verify-bundle.mjs');
  const verified = spawnSync(process.execPath, [verifier, bundlePath], { encoding: 'utf8' });
  const bundleVerified = verified.status === 0;
  out(
    `  evidence bundle: ${s.shown(bundlePath)} — node docs/verify-bundle.mjs: ${bundleVerified ? 'OK, every check passed' : `FAILED\n${verified.stdout}${verified.stderr}`}`,
  );
  const thread = (await s.chat.messages()).filter((m) => m.text.includes(receiptRun.id));
  out(`  chat: ${thread.length} message(s) about the run in ${tenant}'s channel (${s.chat.url})`);
  out(`  see it: ${api.url}/dashboard/runs/${receiptRun.id}`);
  return { run: receiptRun, receiptsProved, bundleVerified };
}

/** Step 2: MeteringLag → the rollup rerun and validated, each step receipted. */
export async function meteringLagStep(s: DemoSession): Promise<RunView> {
  const { api, tokens, tenant, out } = s;
  out('');
  out('[2/5] A MeteringLag alert: the rollup is rerun, validated, and the lag verified');
  const metering = await fireAlert(
    api,
    tokens,
    tenant,
    { alertname: 'MeteringLag', job: 'metering', severity: 'warning' },
    { summary: 'Usage metering is 15 minutes behind' },
  );
  const meteringRunId = metering.runs[0];
  if (!meteringRunId) throw new WardenError('invalid', 'MeteringLag started no run.');
  const meteringRun = await s.follow(meteringRunId);
  s.printRun(meteringRun);
  const stepReceipts = (await s.receiptsOf(meteringRun.id)).filter(
    (r) => r.payload.kind === 'step.executed',
  );
  for (const r of stepReceipts) {
    const p = r.payload as Record<string, JsonValue>;
    out(
      `     receipt #${r.payload.seq} step.executed ${String(p.step)}: ${String(p.outcome)}, output ${String(p.outputDigest ?? '').slice(0, 22)}…`,
    );
  }
  return meteringRun;
}

/** Step 3: the week's Trust Report made and delivered to the bucket, with its delivery receipt. */
export async function trustReportStep(
  s: DemoSession,
): Promise<{ id: string; location: string | null; deliveryReceipt: string }> {
  const { api, tenant, out } = s;
  out('');
  out(`[3/5] The weekly Trust Report, made and delivered to ${tenant}'s bucket`);
  const week = isoWeekOf(new Date());
  const made = await api.post<{
    report: { id: string; format: string; sha256: string; size: number; receiptId: string };
    links: Array<{ url: string; expiresAt: string }>;
    warning?: string;
  }>('/api/v1/reports', { week, deliver: true });
  out(
    `  report ${made.report.id} for ${week}: ${made.report.format.toUpperCase()}, ${made.report.size.toLocaleString('en-US')} bytes, sha256 ${made.report.sha256.slice(0, 16)}…, receipt ${made.report.receiptId}`,
  );
  if (made.warning) out(`  note: ${made.warning}`);
  for (const l of made.links) out(`  secure link (until ${l.expiresAt}): ${l.url}`);
  const delivered = await waitForDeliveries(api, made.report.id);
  let location: string | null = null;
  let deliveryReceipt = '';
  for (const d of delivered) {
    out(
      `  ${d.status === 'delivered' ? '✓' : '✗'} ${d.target}: ${d.status} after ${d.attempts} attempt(s)${d.location ? ` → ${d.location}` : ''}${d.lastError ? ` (${d.lastError})` : ''}`,
    );
    if (d.location?.startsWith('file:')) {
      location = d.location;
      const bytes = await readFile(fileURLToPath(d.location)).catch(() => undefined);
      if (bytes) {
        const same = createHash('sha256').update(bytes).digest('hex') === made.report.sha256;
        out(
          `     the file in the bucket ${same ? 'matches' : 'DOES NOT match'} the SHA-256 in the report receipt`,
        );
      }
    }
  }
  const finishedReceipts = await api.get<{ receipts: ApiReceipt[] }>(
    '/api/v1/receipts?kind=delivery.finished&limit=1000',
  );
  for (const r of finishedReceipts.receipts.filter((r) => r.payload.report === made.report.id)) {
    deliveryReceipt ||= r.payload.id;
    out(
      `     receipt #${r.payload.seq} delivery.finished → ${String(r.payload.destination)}: ${String(r.payload.outcome)}`,
    );
  }
  return { id: made.report.id, location, deliveryReceipt };
}

/** Step 4: a budget denial approved in chat, a breaker tripping, then the figures. */
export async function dashboardStep(s: DemoSession): Promise<{
  denied: RunView;
  approvedBy: string;
  disabledReason: string;
  summary: MetricsSummary;
}> {
  const { api, tokens, tenant, out } = s;
  out('');
  out('[4/5] The dashboard: runs, failures, budget enforcement, time saved, an auto-disable');
  out('  budget: cache-purge may act once an hour; two regions go stale.');
  const first = await fireAlert(api, tokens, tenant, {
    alertname: 'CacheStale',
    region: 'eu-west-1',
  });
  const firstRun = await s.follow(first.runs[0] ?? '');
  out(`  eu-west-1: run ${firstRun.id} ${firstRun.status}`);
  const second = await fireAlert(api, tokens, tenant, {
    alertname: 'CacheStale',
    region: 'us-east-1',
  });
  let approvedBy = '';
  const deniedRun = await followRun(api, second.runs[0] ?? '', {
    onApproval: async (run) => {
      const step = run.steps.find((s) => s.decision?.outcome !== 'allow');
      out(
        `  us-east-1: run ${run.id} denied by the budget (${step?.decision?.reasons.join(', ') ?? 'budget'}): it waits for a person`,
      );
      approvedBy = await s.approveInChat(run, 'approve');
    },
  });
  out(`  us-east-1: run ${deniedRun.id} ${deniedRun.status} after approval`);
  out(
    '  breaker: the rollup job breaks; metering-lag fails twice in a row (autoDisable.consecutiveFailures: 2).',
  );
  await post(`${s.targetUrl}/admin/rollup/break`, { broken: true });
  for (const n of [1, 2]) {
    const fired = await fireAlert(api, tokens, tenant, {
      alertname: 'MeteringLag',
      job: 'metering',
      attempt: String(n),
    });
    const run = await s.follow(fired.runs[0] ?? '');
    out(`  MeteringLag #${n}: run ${run.id} ${run.status}${run.error ? ` — ${run.error}` : ''}`);
  }
  const after = await api.get<{ playbooks: PlaybookRow[] }>('/api/v1/playbooks');
  const disabled = after.playbooks.find((p) => p.name === 'metering-lag');
  out(
    `  metering-lag is ${disabled?.disabled ? `disabled by its breaker: ${disabled.disabledReason}` : 'still enabled (the breaker did not trip)'}`,
  );
  const skipped = await fireAlert(api, tokens, tenant, {
    alertname: 'MeteringLag',
    job: 'metering',
    attempt: '3',
  });
  out(
    `  a third MeteringLag starts ${skipped.runs.length === 0 ? 'no run: the playbook is off' : `run ${skipped.runs.join(', ')}`}`,
  );
  await post(`${s.targetUrl}/admin/rollup/break`, { broken: false });
  await api.post('/api/v1/playbooks/metering-lag/enable', {
    reason: 'rollup job mended (warden demo)',
  });
  out('  the rollup job is mended and metering-lag enabled again (receipted)');
  const summary = await api.get<MetricsSummary>('/api/v1/metrics/summary?window=24h');
  const r = summary.runs;
  out(
    `  last 24 h: ${r.total} runs — ${r.succeeded} succeeded, ${r.failed} failed, ${r.denied} denied, ${r.awaitingApproval} awaiting approval`,
  );
  out(
    `  auto-resolved vs approvals: ${r.autoResolved} vs ${r.withApproval}; time saved ${summary.timeSavedMinutes} min; budget: ${summary.budget.actions} actions, ${summary.budget.denied} denied`,
  );
  for (const d of summary.autoDisabled.slice(0, 3))
    out(`  auto-disabled: ${d.playbook} at ${d.at} — ${d.reason}`);
  out(
    `  open ${api.url}/dashboard (sign in with a read token of ${tenant}; the demo's is wdn_demo_acme_read_…, in examples/warden.yaml)`,
  );
  return { denied: deniedRun, approvedBy, disabledReason: disabled?.disabledReason ?? '', summary };
}

/** Step 5: the Provable Posture Pack written to disk and its manifest checked. */
export async function postureStep(
  s: DemoSession,
): Promise<{ dir: string; files: number; receiptId: string; problems: string[] }> {
  const { api, out } = s;
  out('');
  out('[5/5] The Provable Posture Pack: claims linked to artifacts anyone can check');
  const pack = await api.post<{
    receipt: { id: string; seq: number };
    claims: Array<{ title: string; evidenced: boolean; links: Array<{ href: string }> }>;
    files: Array<{ path: string; contentBase64: string }>;
  }>('/api/v1/posture', {});
  const postureDir = join(s.outDir, 'posture');
  for (const f of pack.files) {
    const path = join(postureDir, ...f.path.split('/'));
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, Buffer.from(f.contentBase64, 'base64'));
  }
  for (const c of pack.claims) {
    out(
      `  ${c.evidenced ? '✓' : '·'} ${c.title}${c.links.length ? ` → ${c.links.map((l) => l.href).join(', ')}` : ''}`,
    );
  }
  const check = await checkManifest(postureDir);
  out(
    `  ${s.shown(postureDir)}: ${pack.files.length} files; MANIFEST.json ${check.ok ? '✓ matches every file and its signed receipt' : `✗ ${check.problems.join('; ')}`} (posture.generated, seq ${pack.receipt.seq})`,
  );
  out(
    `  open ${s.shown(join(postureDir, 'index.html'))}; the evaluation kit is in ${s.shown(join(postureDir, 'evaluation'))}/`,
  );
  return {
    dir: postureDir,
    files: pack.files.length,
    receiptId: pack.receipt.id,
    problems: check.problems,
  };
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new WardenError('not_ready', `${url} answered ${res.status}.`);
}

interface Delivery {
  target: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  location: string | null;
  lastError: string | null;
}

/** Waits (up to 60 s) until none of the report's deliveries is pending. */
async function waitForDeliveries(api: WardenApi, id: string): Promise<Delivery[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { deliveries } = await api.get<{ deliveries: Delivery[] }>(`/api/v1/reports/${id}`);
    if (deliveries.every((d) => d.status !== 'pending') || Date.now() > deadline) return deliveries;
    await sleep(500);
  }
}
