import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Server, serve } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { listTriggers } from '../../src/storage/triggers.js';
import type { TriggerEvent } from '../../src/triggers/trigger-event.js';
import {
  createFreshDatabase,
  redisUrl,
  serviceAvailable,
  uniqueRedisPrefix,
} from '../helpers/services.js';

const playbooks = resolve(import.meta.dirname, '../fixtures/playbooks');
const quiet = createLogger({ level: 'silent' });
const temps: string[] = [];

function configFor(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cron-'));
  temps.push(dir);
  writeFileSync(
    join(dir, 'warden.yaml'),
    `tenants:\n  - { id: acme, tier: enterprise, playbooks: ${JSON.stringify(playbooks)} }\n`,
  );
  return loadConfig({ env: { PORT: '0', WARDEN_DATA_DIR: join(dir, 'data'), ...env }, cwd: dir });
}

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Each tick one trigger: whole, consecutive seconds, each with its receipt, nothing twice. */
function expectOnePerTick(triggers: TriggerEvent[]) {
  const ticks = triggers.map((t) => t.startsAt as string).sort();
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  expect(new Set(ticks).size).toBe(ticks.length);
  for (const t of ticks) expect(t).toMatch(/:\d\d\.000Z$/);
  const seconds = ticks.map((t) => Date.parse(t) / 1000);
  for (let i = 1; i < seconds.length; i++) expect(seconds[i]).toBe((seconds[i - 1] as number) + 1);
  for (const t of triggers) {
    expect(t).toMatchObject({ source: 'cron', kind: 'cron', status: 'fired' });
    expect(t.labels).toEqual({ playbook: 'every-second', cron: '* * * * * *' });
    expect(t.receiptId).not.toBe('');
  }
}

describe('cron triggers', () => {
  it('fires a playbook schedule in process (croner) as receipted triggers', async () => {
    const server = await serve(configFor({}), { logger: quiet });
    try {
      await sleep(3200);
    } finally {
      await server.stop();
    }
    const { openDatabase } = await import('../../src/storage/database.js');
    const db = await openDatabase({ dataDir: server.runtime.config.dataDir });
    try {
      const triggers = await listTriggers(db.knex, 'acme', { source: 'cron', limit: 100 });
      expectOnePerTick(triggers);
      const receipts = await db
        .knex('receipts')
        .where({ tenant_id: 'acme', kind: 'trigger.received' });
      expect(receipts).toHaveLength(triggers.length);
    } finally {
      await db.close();
    }
  });

  const scaleOut = serviceAvailable('DATABASE_URL') && serviceAvailable('REDIS_URL');
  it.runIf(scaleOut)(
    'fires each tick once across two replicas on PostgreSQL with BullMQ job schedulers',
    async () => {
      const database = await createFreshDatabase();
      const env = {
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl as string,
        WARDEN_REDIS_PREFIX: uniqueRedisPrefix(),
      };
      const replicas: Server[] = [];
      try {
        // Started together: both sync the same tenants from config at once.
        const started = await Promise.allSettled([
          serve(configFor(env), { logger: quiet }),
          serve(configFor(env), { logger: quiet }),
        ]);
        for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
        expect(started.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
        await sleep(4200);
        await Promise.all(replicas.map((r) => r.stop()));
        const { openDatabase } = await import('../../src/storage/database.js');
        const db = await openDatabase({ databaseUrl: database.url });
        try {
          expectOnePerTick(await listTriggers(db.knex, 'acme', { source: 'cron', limit: 100 }));
          // Both replicas synced the same config; the tenant was created once.
          const created = await db.knex('receipts').where({ kind: 'tenant.created' });
          expect(created).toHaveLength(1);
        } finally {
          await db.close();
        }
      } finally {
        await Promise.all(replicas.map((r) => r.stop()));
        await database.drop();
      }
    },
  );
});
