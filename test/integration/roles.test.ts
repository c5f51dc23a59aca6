import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { isWardenError } from '../../src/errors.js';
import { type Server, serve } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import {
  createFreshDatabase,
  redisUrl,
  serviceAvailable,
  uniqueRedisPrefix,
} from '../helpers/services.js';

const playbooks = resolve(import.meta.dirname, '../fixtures/playbooks');
const quiet = createLogger({ level: 'silent' });
const temps: string[] = [];
const token = 'wdn_roles_ingest_token_5f0c2a7b91';
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function configFor(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-roles-'));
  temps.push(dir);
  writeFileSync(
    join(dir, 'warden.yaml'),
    [
      'tenants:',
      `  - id: acme`,
      '    tier: enterprise',
      `    playbooks: ${JSON.stringify(playbooks)}`,
      '    tokens: [{ name: am, scope: ingest, value: env:INGEST }]',
    ].join('\n'),
  );
  return loadConfig({
    env: { PORT: '0', WARDEN_DATA_DIR: join(dir, 'data'), INGEST: token, ...env },
    cwd: dir,
  });
}

describe('serve --role', () => {
  it('refuses a split role without a shared queue', () => {
    let err: unknown;
    try {
      configFor({ WARDEN_ROLE: 'worker' });
    } catch (e) {
      err = e;
    }
    expect(isWardenError(err) && err.code).toBe('config_invalid');
    expect((err as Error).message).toContain('role worker needs a queue shared between processes');
  });

  const services = serviceAvailable('DATABASE_URL') && serviceAvailable('REDIS_URL');
  it.runIf(services)(
    'lets an ingress replica take the alert and a worker replica run it',
    async () => {
      const database = await createFreshDatabase();
      const env = {
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl as string,
        WARDEN_REDIS_PREFIX: uniqueRedisPrefix(),
      };
      const servers: Server[] = [];
      try {
        const ingress = await serve(configFor({ ...env, WARDEN_ROLE: 'ingress' }), {
          logger: quiet,
        });
        servers.push(ingress);
        const worker = await serve(configFor({ ...env, WARDEN_ROLE: 'worker' }), { logger: quiet });
        servers.push(worker);
        // The worker serves health only; the ingress takes the hook.
        expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
        expect(
          (await fetch(`${worker.url}/hooks/acme/alertmanager`, { method: 'POST' })).status,
        ).toBe(404);
        const res = await fetch(`${ingress.url}/hooks/acme/alertmanager`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            version: '4',
            status: 'firing',
            alerts: [
              {
                status: 'firing',
                labels: { alertname: 'DiskFull', severity: 'page', instance: 'db-1' },
                startsAt: '2026-11-24T00:00:00Z',
                fingerprint: 'roles-1',
              },
            ],
          }),
        });
        expect(res.status).toBe(202);
        const [entry] = ((await res.json()) as { accepted: Array<{ runs: string[] }> }).accepted;
        const runId = entry?.runs[0] as string;
        expect(runId).toBeDefined();
        const knex = worker.runtime.db.knex;
        let status = '';
        for (let i = 0; i < 100 && status !== 'succeeded'; i++) {
          status = (await knex('runs').where({ id: runId }).first('status'))?.status ?? '';
          if (status !== 'succeeded') await sleep(100);
        }
        expect(status).toBe('succeeded');
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
        await database.drop();
      }
    },
  );
});
