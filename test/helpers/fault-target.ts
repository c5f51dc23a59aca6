/**
 * The outside world a playbook step acts on, for the fault tests: an HTTP server on 127.0.0.1 that
 * counts every request by its `Idempotency-Key` (tenant:run:step) on arrival — so a step run twice
 * shows up as a key counted twice — and answers after a delay, or not until released.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EffectTarget {
  /** `127.0.0.1:<port>`, for `plugins.http.allowedHosts`. */
  host: string;
  /** Requests that arrived, by idempotency key. */
  counts: Map<string, number>;
  /** Requests that arrived and have not been answered yet. */
  inFlight(): number;
  /** Holds every answer (new and in flight) until `release()`. */
  hold(): void;
  release(): void;
  /** Keys that arrived more than once, and how many extra calls that makes. */
  duplicates(): { keys: string[]; extra: number };
  close(): Promise<void>;
}

/**
 * @example
 * const target = await startEffectTarget({ delayMs: 100 });
 * // playbook: uses: http.request, with: { url: "http://${target.host}/effect" }
 */
export async function startEffectTarget(opts: { delayMs?: number } = {}): Promise<EffectTarget> {
  const counts = new Map<string, number>();
  let open = 0;
  let held: Array<() => void> | undefined;
  const server = createServer((req, res) => {
    const key = String(req.headers['idempotency-key'] ?? 'none');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    open++;
    req.resume();
    const answer = () => {
      open--;
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    req.on('end', () => {
      setTimeout(() => (held ? held.push(answer) : answer()), opts.delayMs ?? 0);
    });
  });
  const release = () => {
    const waiting = held ?? [];
    held = undefined;
    for (const answer of waiting) answer();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    counts,
    inFlight: () => open,
    hold() {
      held ??= [];
    },
    release,
    duplicates() {
      const keys = [...counts].filter(([, n]) => n > 1);
      return { keys: keys.map(([k]) => k), extra: keys.reduce((sum, [, n]) => sum + n - 1, 0) };
    },
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
