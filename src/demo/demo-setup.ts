/**
 * Demo setup: finds what the demo needs — a Warden answering at the URL (or, when none does and no
 * `--url` was given, one started in this process from the demo config) and the demo target on
 * 127.0.0.1:3101 (started in this process when it is not running) — and resets the target to the
 * demo's start: ingest worker stuck, rollup stale, rollup job working.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../config.js';
import { WardenError } from '../errors.js';

interface DemoTargetModule {
  startDemoTarget(opts: {
    port: number;
    host: string;
  }): Promise<{ url: string; close(): Promise<void> }>;
}

export interface Started {
  url: string;
  /** True when this process started it (and stops it with `close`). */
  started: boolean;
  close(): Promise<void>;
}

async function answers(url: string): Promise<Response | undefined> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(3000) });
  } catch {
    return undefined;
  }
}

/** Warden at `url` when its /healthz answers; otherwise `start()` when allowed, else a clear error. */
export async function ensureWarden(
  url: string,
  start: (() => Promise<{ url: string; stop(): Promise<void> }>) | undefined,
): Promise<Started> {
  const res = await answers(`${url}/healthz`);
  if (res?.ok) return { url, started: false, close: async () => {} };
  if (!start) {
    throw new WardenError(
      'not_ready',
      `No Warden answers at ${url}/healthz${res ? ` (status ${res.status})` : ''}. Start it (npm start) or pass the right --url.`,
    );
  }
  const server = await start();
  return { url: server.url, started: true, close: () => server.stop() };
}

/** The demo target at `url`, started in this process when nothing listens there. */
export async function ensureDemoTarget(url: string): Promise<Started> {
  const res = await answers(`${url}/`);
  if (res) {
    const body = (await res.json().catch(() => null)) as { service?: string } | null;
    if (body?.service !== 'warden-demo-target') {
      throw new WardenError(
        'not_ready',
        `Something other than the demo target answers at ${url}. Stop it, or run the target elsewhere and pass --target.`,
      );
    }
    return { url, started: false, close: async () => {} };
  }
  const { hostname, port } = new URL(url);
  const file = resolve(packageRoot, 'examples/demo-target/server.ts');
  const mod = (await import(pathToFileURL(file).href)) as DemoTargetModule;
  const target = await mod.startDemoTarget({ port: Number(port) || 80, host: hostname });
  return { url: target.url, started: true, close: () => target.close() };
}

/** Puts the target back at the demo's start. */
export async function resetDemoTarget(url: string): Promise<void> {
  for (const [path, body] of [
    ['/admin/stuck', {}],
    ['/admin/rollup/break', { broken: false }],
  ] as const) {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok)
      throw new WardenError('not_ready', `The demo target answered ${res.status} to ${path}.`);
  }
}
