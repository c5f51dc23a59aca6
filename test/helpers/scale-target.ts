/**
 * Scale-out target: a local HTTP server that records every call a playbook step makes — its path,
 * its `Idempotency-Key` header (`tenant:run:step`) and its body — so a step run twice shows as a
 * key seen twice.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TargetCall {
  path: string;
  key: string;
  body: string;
}

export interface ScaleTarget {
  /** `127.0.0.1:<port>`, as `plugins.http.allowedHosts` takes it. */
  host: string;
  calls: TargetCall[];
  close(): Promise<void>;
}

/**
 * @example
 * const target = await startScaleTarget();
 * // playbook: uses: http.request, with: { url: "http://${target.host}/load" }
 * expect(duplicateKeys(target.calls)).toEqual([]);
 */
export async function startScaleTarget(): Promise<ScaleTarget> {
  const calls: TargetCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.push({
        path: new URL(req.url ?? '/', 'http://target').pathname,
        key: String(req.headers['idempotency-key'] ?? ''),
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Idempotency keys that reached the target more than once. */
export function duplicateKeys(calls: readonly TargetCall[]): string[] {
  const seen = new Map<string, number>();
  for (const { key } of calls) seen.set(key, (seen.get(key) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}
