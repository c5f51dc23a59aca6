/**
 * `warden demo`: the sprint review's five steps, performed for real against a running Warden (the
 * demo config's tenant acme) through its public interface only — the alert hook, `/api/v1` and the
 * Teams endpoint — with the demo target and its chat sink as the systems acted on and the channel
 * talked to. Each step narrates what happened, with ids and links, and checks its own evidence:
 *
 *   1. ReceiptLag → receipt-lag runs under its budgets; its receipts, each with an inclusion proof
 *      checked here against the signed checkpoint, and the tenant's bundle verified offline;
 *   2. MeteringLag → the rollup is rerun and validated; the validation step's receipts;
 *   3. the week's Trust Report made and delivered to the tenant's bucket, with its delivery receipt;
 *   4. the dashboard's figures, after a budget denial approved in chat and a breaker disabling a
 *      failing playbook;
 *   5. the Provable Posture Pack written to disk, its manifest and bundle checked.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../config.js';
import { WardenError } from '../errors.js';
import { canonicalBytes } from '../ledger/canonical-json.js';
import { leafHash, verifyInclusion } from '../ledger/merkle.js';
import type { JsonValue } from '../ledger/receipt.js';
import { checkManifest } from '../posture/manifest.js';
import { isoWeekOf } from '../reports/iso-week.js';
import { createDemoChat, demoTeams } from './demo-chat.js';
import { fireAlert, followRun, type RunView } from './demo-runs.js';
import type { DemoTokens, WardenApi } from './warden-api.js';

export interface DemoOptions {
  api: WardenApi;
  tokens: DemoTokens;
  targetUrl: string;
  /** Where bundles and the posture pack are written. */
  outDir: string;
  tenant?: string;
  out(line: string): void;
}

/** What the demo did, for its caller (and the test that runs it). */
export interface DemoResult {
  runs: Record<'receiptLag' | 'meteringLag', RunView>;
  receiptsProved: number;
  report: { id: string; location: string | null; deliveryReceipt: string };
  budget: { denied: RunView; approvedBy: string };
  autoDisabled: { playbook: string; reason: string };
  summary: MetricsSummary;
  posture: { dir: string; files: number; receiptId: string; problems: string[] };
  bundleVerified: boolean;
}

interface MetricsSummary {
  runs: Record<string, number>;
  approvalsPending: number;
  timeSavedMinutes: number;
  coverage: { share: number | null; autoResolved: number; routineEvents: number };
  budget: { actions: number; denied: number };
  autoDisabled: Array<{ receiptId: string; at: string; playbook: string; reason: string }>;
}

interface ApiReceipt {
  payload: { id: string; seq: number; kind: string; at: string } & Record<string, JsonValue>;
}

interface Proof {
  leafIndex: number;
  treeSize: number;
  hashes: string[];
  checkpoint: { origin: string; size: number; rootHash: string };
}

interface PlaybookRow {
  name: string;
  disabled: boolean;
  disabledReason: string | null;
}

const demoPlaybooks = ['receipt-lag', 'metering-lag', 'cache-purge'];
const ms = (n: number | null) => (n === null ? '' : `${n} ms`);
const seconds = (from: string, to: string | null) =>
  to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s` : '';

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const { api, tokens, out } = opts;
  const tenant = opts.tenant ?? 'acme';
  const chat = createDemoChat({ targetUrl: opts.targetUrl, wardenUrl: api.url });
  await mkdir(opts.outDir, { recursive: true });
  const shown = (path: string) => {
    const near = relative(process.cwd(), path);
    return near.startsWith('..') ? path : near || '.';
  };

  /** Follows a run, approving any ticket on the way as the on-call in chat. */
  const follow = (id: string) =>
    followRun(api, id, {
      onApproval: (run) => approveInChat(run, 'approve').then(() => undefined),
    });

  async function approveInChat(run: RunView, verb: 'approve' | 'reject') {
    const { approvals } = await api.get<{ approvals: Array<{ id: string; reasons?: string[] }> }>(
      `/api/v1/approvals?run=${run.id}&status=pending`,
    );
    const ticket = approvals[0];
    if (!ticket)
      throw new WardenError('not_ready', `Run ${run.id} waits, but has no pending ticket.`);
    const card = await chat.cardOf(ticket.id);
    out(`     ▸ approval ticket ${ticket.id} posted in the run's thread (${chat.url})`);
    const answer = await chat.click(card, verb);
    out(
      `     ▸ teams:${demoTeams.oncall} clicked ${verb === 'approve' ? 'Approve' : 'Reject'}: ${answer}`,
    );
    return `teams:${demoTeams.oncall}`;
  }

  function printRun(run: RunView) {
    const mark = run.status === 'succeeded' ? '✓' : '✗';
    out(
      `  ${mark} run ${run.id} ${run.status} in ${seconds(run.createdAt, run.finishedAt)} (${run.playbook.name} v${run.playbook.version}, ${run.playbook.digest.slice(0, 19)}…)`,
    );
    for (const s of run.steps) {
      const decision = s.decision
        ? `${s.decision.outcome}${s.decision.reasons.length ? ` (${s.decision.reasons.join(', ')})` : ''}`
        : 'not decided';
      out(
        `     ${s.id.padEnd(9)} ${s.uses.padEnd(18)} ${decision.padEnd(28)} ${s.status} ${ms(s.durationMs)}${s.error ? ` — ${s.error}` : ''}`,
      );
    }
  }

  async function receiptsOf(runId: string): Promise<ApiReceipt[]> {
    const { receipts } = await api.get<{ receipts: ApiReceipt[] }>(
      `/api/v1/receipts?run=${runId}&limit=1000`,
    );
    return receipts;
  }

  /** Fetches each receipt's inclusion proof and checks it here: leaf → audit path → signed root. */
  async function proveReceipts(receipts: ApiReceipt[]): Promise<number> {
    let proved = 0;
    for (const r of receipts) {
      const proof = await api.get<Proof>(`/api/v1/ledger/proof/${r.payload.id}`);
      const ok = verifyInclusion(
        leafHash(canonicalBytes(r.payload as JsonValue)),
        proof.leafIndex,
        proof.treeSize,
        proof.hashes.map((h) => Buffer.from(h, 'base64')),
        Buffer.from(proof.checkpoint.rootHash, 'base64'),
      );
      if (ok) proved += 1;
      out(
        `     #${String(r.payload.seq).padEnd(5)} ${r.payload.kind.padEnd(22)} ${ok ? '✓' : '✗'} leaf ${proof.leafIndex} of ${proof.treeSize}, ${proof.hashes.length} audit-path hashes → root ${proof.checkpoint.rootHash.slice(0, 12)}…`,
      );
    }
    return proved;
  }

  // ── Before the steps: the demo playbooks are there and enabled ──────────────────────────────
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

  // ── 1 ───────────────────────────────────────────────────────────────────────────────────────
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
  const receiptRun = await follow(receiptRunId);
  printRun(receiptRun);
  const bundlePath = join(opts.outDir, `${tenant}-bundle.json`);
  const bundle = await api.get<unknown>('/api/v1/export');
  await writeFile(bundlePath, `${JSON.stringify(bundle)}\n`);
  const receipts = await receiptsOf(receiptRun.id);
  out(
    `  receipts of the run (${receipts.length}), each anchored in ${tenant}'s Merkle log and proved here:`,
  );
  const receiptsProved = await proveReceipts(receipts);
  const verifier = resolve(packageRoot, 'docs/verify-bundle.mjs');
  const verified = spawnSync(process.execPath, [verifier, bundlePath], { encoding: 'utf8' });
  const bundleVerified = verified.status === 0;
  out(
    `  evidence bundle: ${shown(bundlePath)} — node docs/verify-bundle.mjs: ${bundleVerified ? 'OK, every check passed' : `FAILED\n${verified.stdout}${verified.stderr}`}`,
  );
  const thread = (await chat.messages()).filter((m) => m.text.includes(receiptRun.id));
  out(`  chat: ${thread.length} message(s) about the run in ${tenant}'s channel (${chat.url})`);
  out(`  see it: ${api.url}/dashboard/runs/${receiptRun.id}`);

  // ── 2 ───────────────────────────────────────────────────────────────────────────────────────
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
  const meteringRun = await follow(meteringRunId);
  printRun(meteringRun);
  const stepReceipts = (await receiptsOf(meteringRun.id)).filter(
    (r) => r.payload.kind === 'step.executed',
  );
  for (const r of stepReceipts) {
    const p = r.payload as Record<string, JsonValue>;
    out(
      `     receipt #${r.payload.seq} step.executed ${String(p.step)}: ${String(p.outcome)}, output ${String(p.outputDigest ?? '').slice(0, 22)}…`,
    );
  }

  // ── 3 ───────────────────────────────────────────────────────────────────────────────────────
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

  // ── 4 ───────────────────────────────────────────────────────────────────────────────────────
  out('');
  out('[4/5] The dashboard: runs, failures, budget enforcement, time saved, an auto-disable');
  out('  budget: cache-purge may act once an hour; two regions go stale.');
  const first = await fireAlert(api, tokens, tenant, {
    alertname: 'CacheStale',
    region: 'eu-west-1',
  });
  const firstRun = await follow(first.runs[0] ?? '');
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
      approvedBy = await approveInChat(run, 'approve');
    },
  });
  out(`  us-east-1: run ${deniedRun.id} ${deniedRun.status} after approval`);
  out(
    '  breaker: the rollup job breaks; metering-lag fails twice in a row (autoDisable.consecutiveFailures: 2).',
  );
  await post(`${opts.targetUrl}/admin/rollup/break`, { broken: true });
  for (const n of [1, 2]) {
    const fired = await fireAlert(api, tokens, tenant, {
      alertname: 'MeteringLag',
      job: 'metering',
      attempt: String(n),
    });
    const run = await follow(fired.runs[0] ?? '');
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
  await post(`${opts.targetUrl}/admin/rollup/break`, { broken: false });
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

  // ── 5 ───────────────────────────────────────────────────────────────────────────────────────
  out('');
  out('[5/5] The Provable Posture Pack: claims linked to artifacts anyone can check');
  const pack = await api.post<{
    receipt: { id: string; seq: number };
    claims: Array<{ title: string; evidenced: boolean; links: Array<{ href: string }> }>;
    files: Array<{ path: string; contentBase64: string }>;
  }>('/api/v1/posture', {});
  const postureDir = join(opts.outDir, 'posture');
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
    `  ${shown(postureDir)}: ${pack.files.length} files; MANIFEST.json ${check.ok ? '✓ matches every file and its signed receipt' : `✗ ${check.problems.join('; ')}`} (posture.generated, seq ${pack.receipt.seq})`,
  );
  out(
    `  open ${shown(join(postureDir, 'index.html'))}; the evaluation kit is in ${shown(join(postureDir, 'evaluation'))}/`,
  );
  out('');
  out(`Done. Chat: ${chat.url} · Dashboard: ${api.url}/dashboard · API docs: ${api.url}/docs`);

  return {
    runs: { receiptLag: receiptRun, meteringLag: meteringRun },
    receiptsProved,
    report: { id: made.report.id, location, deliveryReceipt },
    budget: { denied: deniedRun, approvedBy },
    autoDisabled: { playbook: 'metering-lag', reason: disabled?.disabledReason ?? '' },
    summary,
    posture: {
      dir: postureDir,
      files: pack.files.length,
      receiptId: pack.receipt.id,
      problems: check.problems,
    },
    bundleVerified,
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
