/**
 * Steady alert load for the fault tests: one new Alertmanager (webhook v4) alert every 1/rate s,
 * each with its own fingerprint, posted with the tenant's ingest token. Like Alertmanager, a
 * delivery that is not acknowledged (no answer, a refused connection, a 5xx) is sent again with
 * back-off until it is — so a delivery whose answer was lost comes back as `duplicate: true`.
 * Every answer is recorded: what was acknowledged is what Warden promised to keep.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Accepted {
  triggerId: string;
  duplicate: boolean;
  runs: string[];
}

export interface Attempt {
  sentAt: number;
  answeredAt: number;
  /** The HTTP status, or the network error's code (`ECONNREFUSED`, `TimeoutError`, …). */
  outcome: string;
}

export interface AlertRecord {
  fingerprint: string;
  attempts: Attempt[];
  /** The 202's entry for this alert, once acknowledged. */
  accepted?: Accepted;
}

export interface AlertLoad {
  alerts: ReadonlyMap<string, AlertRecord>;
  /** Stops making new alerts (deliveries not yet acknowledged keep being retried). */
  stop(): void;
  /** Stops, then waits until every alert is acknowledged (throws after `timeoutMs`). */
  settle(timeoutMs: number): Promise<void>;
  /** Stops everything at once, retries included. */
  abort(): void;
  /**
   * How many answers of each kind (`202`, `503`, `ECONNREFUSED`, …) the attempts got — all, or
   * those sent at or after `from` and answered by `to` (ms since the epoch).
   */
  outcomes(window?: { from: number; to: number }): Record<string, number>;
  acknowledged(): number;
}

export interface AlertLoadOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:3917`. */
  url: string;
  tenant: string;
  token: string;
  perSecond: number;
  /** Prefix of the fingerprints (one per test). */
  name: string;
  /** Labels every alert carries beside `instance` (the playbook matches on them). */
  labels: Record<string, string>;
  /** First retry delay; doubles up to 2 s. @defaultValue 200 */
  retryMs?: number;
}

function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  return e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'error';
}

/**
 * @example
 * const load = startAlertLoad({ url, tenant: 'acme', token, perSecond: 10, name: 'kill', labels });
 * // … fault …
 * await load.settle(60_000);
 */
export function startAlertLoad(opts: AlertLoadOptions): AlertLoad {
  const alerts = new Map<string, AlertRecord>();
  const tasks = new Set<Promise<void>>();
  const stopping = new AbortController();
  setMaxListeners(0, stopping.signal); // one per delivery in flight
  let producing = true;
  let made = 0;
  const started = Date.now();

  const body = (fingerprint: string, startsAt: string) =>
    JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'warden',
      groupKey: `{}:{fingerprint="${fingerprint}"}`,
      truncatedAlerts: 0,
      alerts: [
        {
          status: 'firing',
          labels: { ...opts.labels, instance: fingerprint },
          annotations: { summary: `fault load ${fingerprint}` },
          startsAt,
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint,
        },
      ],
    });

  async function deliver(record: AlertRecord, payload: string) {
    for (let attempt = 1; !stopping.signal.aborted; attempt++) {
      const sentAt = Date.now();
      const note = (outcome: string) =>
        record.attempts.push({ sentAt, answeredAt: Date.now(), outcome });
      try {
        const res = await fetch(`${opts.url}/hooks/${opts.tenant}/alertmanager`, {
          method: 'POST',
          headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
          body: payload,
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(15_000)]),
        });
        note(String(res.status));
        if (res.status >= 200 && res.status < 300) {
          const answer = (await res.json()) as { accepted: Accepted[] };
          record.accepted = answer.accepted[0];
          return;
        }
        await res.body?.cancel();
        // Alertmanager gives up on a 4xx other than 429: so does the load, and settle() fails.
        if (res.status < 500 && res.status !== 429) return;
      } catch (err) {
        if (stopping.signal.aborted) return;
        note(errorCode(err));
      }
      const delay = Math.min(2000, (opts.retryMs ?? 200) * 2 ** (attempt - 1));
      await sleep(delay * (0.75 + Math.random() / 2), undefined, { signal: stopping.signal }).catch(
        () => {},
      );
    }
  }

  const producer = (async () => {
    while (producing && !stopping.signal.aborted) {
      const fingerprint = `${opts.name}-${String(made).padStart(6, '0')}`;
      const record: AlertRecord = { fingerprint, attempts: [] };
      alerts.set(fingerprint, record);
      const task = deliver(record, body(fingerprint, new Date().toISOString()));
      tasks.add(task);
      task.finally(() => tasks.delete(task)).catch(() => {});
      made++;
      // On schedule rather than after each answer: a slow or dead server does not slow the load.
      const next = started + (made * 1000) / opts.perSecond;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();

  const stop = () => {
    producing = false;
  };
  return {
    alerts,
    stop,
    async settle(timeoutMs) {
      stop();
      await producer;
      const deadline = Date.now() + timeoutMs;
      while (tasks.size > 0) {
        if (Date.now() > deadline) {
          stopping.abort();
          const left = [...alerts.values()].filter((a) => !a.accepted).length;
          throw new Error(`${left} alert(s) still not acknowledged after ${timeoutMs} ms`);
        }
        await Promise.race([Promise.all([...tasks]), sleep(250)]);
      }
      const refused = [...alerts.values()].filter((a) => !a.accepted);
      if (refused.length > 0) {
        const first = refused[0];
        throw new Error(
          `${refused.length} alert(s) refused for good, e.g. ${first?.fingerprint}: ${first?.attempts.map((a) => a.outcome).join(', ')}`,
        );
      }
    },
    abort() {
      stop();
      stopping.abort();
    },
    outcomes(window) {
      const counts: Record<string, number> = {};
      for (const a of alerts.values()) {
        for (const { sentAt, answeredAt, outcome } of a.attempts) {
          if (window && (sentAt < window.from || answeredAt > window.to)) continue;
          counts[outcome] = (counts[outcome] ?? 0) + 1;
        }
      }
      return counts;
    },
    acknowledged: () => [...alerts.values()].filter((a) => a.accepted).length,
  };
}

/** Seconds of load per fault: `FAULT_SECONDS`, else 6 when `CI=true` and 24 otherwise. */
export function faultSeconds(): number {
  const value = Number(process.env.FAULT_SECONDS || (process.env.CI === 'true' ? 6 : 24));
  if (!Number.isFinite(value) || value < 2) throw new Error('FAULT_SECONDS must be at least 2');
  return value;
}

/** Alerts per second of the steady load: `FAULT_RATE`, else 10. */
export function faultRate(): number {
  const value = Number(process.env.FAULT_RATE || 10);
  if (!Number.isFinite(value) || value <= 0) throw new Error('FAULT_RATE must be positive');
  return value;
}
