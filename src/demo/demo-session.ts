/**
 * Demo session: what every demo step shares — the API client, the chat sink, the output — and the
 * narration helpers: following a run (approving its tickets in chat as the on-call), printing a
 * run, fetching a run's receipts and checking each one's inclusion proof here.
 */
import { relative } from 'node:path';
import { WardenError } from '../errors.js';
import { canonicalBytes } from '../ledger/canonical-json.js';
import { leafHash, verifyInclusion } from '../ledger/merkle.js';
import type { JsonValue } from '../ledger/receipt.js';
import { createDemoChat, type DemoChat, demoTeams } from './demo-chat.js';
import { followRun, type RunView } from './demo-runs.js';
import type { DemoTokens, WardenApi } from './warden-api.js';

export interface ApiReceipt {
  payload: { id: string; seq: number; kind: string; at: string } & Record<string, JsonValue>;
}

interface Proof {
  leafIndex: number;
  treeSize: number;
  hashes: string[];
  checkpoint: { origin: string; size: number; rootHash: string };
}

export interface DemoSession {
  api: WardenApi;
  tokens: DemoTokens;
  tenant: string;
  targetUrl: string;
  outDir: string;
  chat: DemoChat;
  out(line: string): void;
  /** A path as the reader should see it: relative to the working folder when below it. */
  shown(path: string): string;
  /** Follows a run to its end, approving any ticket on the way as the on-call in chat. */
  follow(id: string): Promise<RunView>;
  /** Approves (or rejects) the run's pending ticket by clicking its card; the clicker's identity. */
  approveInChat(run: RunView, verb: 'approve' | 'reject'): Promise<string>;
  printRun(run: RunView): void;
  receiptsOf(runId: string): Promise<ApiReceipt[]>;
  /** Fetches each receipt's inclusion proof and checks it here; how many were proved. */
  proveReceipts(receipts: ApiReceipt[]): Promise<number>;
}

const ms = (n: number | null) => (n === null ? '' : `${n} ms`);
const seconds = (from: string, to: string | null) =>
  to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s` : '';

export function createDemoSession(opts: {
  api: WardenApi;
  tokens: DemoTokens;
  tenant: string;
  targetUrl: string;
  outDir: string;
  out(line: string): void;
}): DemoSession {
  const { api, out } = opts;
  const chat = createDemoChat({ targetUrl: opts.targetUrl, wardenUrl: api.url });
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

  return {
    ...opts,
    chat,
    shown,
    follow,
    approveInChat,
    printRun,
    receiptsOf,
    proveReceipts,
  };
}
