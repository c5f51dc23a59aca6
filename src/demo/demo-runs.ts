/**
 * Demo runs: fires an Alertmanager alert at Warden's hook the way Alertmanager would (webhook v4,
 * a fresh fingerprint each time so redeliveries never collapse runs of different demos), and follows
 * the runs it started through the public API until they finish — an approval ticket on the way is
 * handed to `onApproval` (the on-call's click in chat).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WardenError } from '../errors.js';
import type { DemoTokens, WardenApi } from './warden-api.js';

export interface RunStep {
  id: string;
  uses: string;
  status: string;
  decision: { outcome: string; reasons: string[] } | null;
  error: string | null;
  durationMs: number | null;
}

export interface RunView {
  id: string;
  playbook: { name: string; version: number; digest: string };
  status: string;
  steps: RunStep[];
  receipts: string[];
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface HookAnswer {
  accepted: Array<{ triggerId: string; duplicate: boolean; runs: string[] }>;
}

const finished = new Set(['succeeded', 'failed', 'denied', 'cancelled']);

/** An Alertmanager webhook (v4) with one firing alert. */
export function alertmanagerPayload(
  labels: Record<string, string>,
  annotations: Record<string, string>,
) {
  const fingerprint = randomBytes(8).toString('hex');
  const alert = {
    status: 'firing',
    labels,
    annotations,
    startsAt: new Date().toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.demo.invalid/graph',
    fingerprint,
  };
  return {
    version: '4',
    receiver: 'warden',
    status: 'firing',
    groupKey: `{}:{alertname="${labels.alertname}"}`,
    truncatedAlerts: 0,
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.demo.invalid',
    alerts: [alert],
  };
}

/** Posts the alert to `/hooks/<tenant>/alertmanager`; the runs it started (maybe none). */
export async function fireAlert(
  api: WardenApi,
  tokens: DemoTokens,
  tenant: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): Promise<{ triggerId: string; runs: string[] }> {
  const { status, body } = await api.send(
    `/hooks/${tenant}/alertmanager`,
    alertmanagerPayload(labels, annotations),
    tokens.ingest,
  );
  if (status !== 202) {
    throw new WardenError(
      'invalid',
      `The alert hook answered ${status}: ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
  const [entry] = (body as HookAnswer).accepted;
  if (!entry) throw new WardenError('invalid', 'The alert hook accepted nothing.');
  return { triggerId: entry.triggerId, runs: entry.runs };
}

export interface FollowOptions {
  /** Called once per run the first time it waits for approval; approves (or not) the ticket. */
  onApproval?: (run: RunView) => Promise<void>;
  /** Called whenever the run's status changes. */
  onStatus?: (run: RunView) => void;
  /** @defaultValue 90 s */
  timeoutMs?: number;
}

/** Polls `GET /runs/:id` until the run has finished; resolves to its last view. */
export async function followRun(api: WardenApi, id: string, opts: FollowOptions = {}) {
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  let last = '';
  let asked = false;
  for (;;) {
    const run = await api.get<RunView>(`/api/v1/runs/${id}`);
    if (run.status !== last) {
      last = run.status;
      opts.onStatus?.(run);
    }
    if (finished.has(run.status)) return run;
    if (run.status === 'awaiting_approval' && !asked && opts.onApproval) {
      asked = true;
      await opts.onApproval(run);
    }
    if (Date.now() > deadline) {
      throw new WardenError(
        'not_ready',
        `Run ${id} is still ${run.status} after ${Math.round((opts.timeoutMs ?? 90_000) / 1000)} s.`,
      );
    }
    await sleep(250);
  }
}
