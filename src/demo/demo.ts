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
import { mkdir } from 'node:fs/promises';
import type { RunView } from './demo-runs.js';
import { createDemoSession } from './demo-session.js';
import {
  dashboardStep,
  type MetricsSummary,
  meteringLagStep,
  postureStep,
  prepare,
  receiptLagStep,
  trustReportStep,
} from './demo-steps.js';
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

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  await mkdir(opts.outDir, { recursive: true });
  const s = createDemoSession({
    api: opts.api,
    tokens: opts.tokens,
    tenant: opts.tenant ?? 'acme',
    targetUrl: opts.targetUrl,
    outDir: opts.outDir,
    out: opts.out,
  });
  await prepare(s);
  const receiptLag = await receiptLagStep(s);
  const meteringLag = await meteringLagStep(s);
  const report = await trustReportStep(s);
  const dashboard = await dashboardStep(s);
  const posture = await postureStep(s);
  s.out('');
  s.out(
    `Done. Chat: ${s.chat.url} · Dashboard: ${s.api.url}/dashboard · API docs: ${s.api.url}/docs`,
  );
  return {
    runs: { receiptLag: receiptLag.run, meteringLag },
    receiptsProved: receiptLag.receiptsProved,
    report,
    budget: { denied: dashboard.denied, approvedBy: dashboard.approvedBy },
    autoDisabled: { playbook: 'metering-lag', reason: dashboard.disabledReason },
    summary: dashboard.summary,
    posture,
    bundleVerified: receiptLag.bundleVerified,
  };
}
