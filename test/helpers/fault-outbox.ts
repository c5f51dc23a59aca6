/**
 * Report delivery with a target that can go down: a Standard Webhooks receiver behind a port that
 * can refuse connections, one enterprise tenant delivering its Trust Reports there, and two outbox
 * replicas — each with its own database pool and signing key, as two Warden processes — sharing a
 * fresh PostgreSQL database. Back-off starts at 100 ms (the outbox's option) instead of 30 s.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import pino from 'pino';
import { type Config, loadConfig } from '../../src/config.js';
import { createOutbox, type Outbox } from '../../src/delivery/outbox.js';
import { createReportTargets } from '../../src/delivery/report-targets.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { type MadeReport, makeTrustReport } from '../../src/reports/trust-report.js';
import { type Database, openDatabase } from '../../src/storage/database.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { type FakeWebhookReceiver, startWebhookReceiver } from '../fakes/webhook-receiver.js';
import { createTestLedger } from './database.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { createFreshDatabase } from './services.js';

const logger = pino({ level: 'silent' });
const publicUrl = 'http://warden.test';

export interface OutboxReplica {
  db: Database;
  ledger: Ledger;
  /** The key this replica signs its receipts with: tells whose attempt a receipt records. */
  keyId: string;
  outbox: Outbox;
}

export interface DeliveryRig {
  tenant: string;
  knex: Knex;
  receiver: FakeWebhookReceiver;
  /** In front of the receiver: `down()` refuses connections. */
  proxy: FaultProxy;
  replicas: [OutboxReplica, OutboxReplica];
  /** Makes the tenant's Trust Report (HTML) for a week on replica A and queues its delivery. */
  makeReport(week: string): Promise<MadeReport>;
  close(): Promise<void>;
}

export async function openDeliveryRig(tenant = 'acme'): Promise<DeliveryRig> {
  const receiver = await startWebhookReceiver();
  const proxy = await startFaultProxy(Number(new URL(receiver.url).port));
  const dir = await mkdtemp(join(tmpdir(), 'warden-fault-delivery-'));
  const file = join(dir, 'warden.yaml');
  await writeFile(
    file,
    `tenants:
  - id: ${tenant}
    tier: enterprise
    reports:
      format: html
      deliver:
        - { type: webhook, url: "http://127.0.0.1:${proxy.port}/hooks/warden", secret: env:REPORT_WHSEC }
`,
  );
  const config: Config = loadConfig({
    configFile: file,
    env: { REPORT_WHSEC: receiver.secret },
    dataDir: join(dir, 'data'),
  });
  const fresh = await createFreshDatabase();
  const replicas: OutboxReplica[] = [];
  for (const first of [true, false]) {
    const db = await openDatabase({ databaseUrl: fresh.url, migrate: first });
    const { ledger, signer } = await createTestLedger(db);
    const targets = createReportTargets({ knex: db.knex, tenants: config.tenants, publicUrl });
    const outbox = createOutbox({
      knex: db.knex,
      ledger,
      logger,
      target: targets.target,
      hasAlternate: targets.hasAlternate,
      backoffMs: 100,
      maxAttempts: 12,
      intervalMs: 50,
    });
    replicas.push({ db, ledger, keyId: signer.keyId, outbox });
  }
  const [a, b] = replicas as [OutboxReplica, OutboxReplica];
  const knex = a.db.knex;
  await createTenant({ knex, ledger: a.ledger }, { id: tenant, tier: 'enterprise' }, 'test');

  return {
    tenant,
    knex,
    receiver,
    proxy,
    replicas: [a, b],
    async makeReport(week) {
      const made = await makeTrustReport(
        {
          knex,
          ledger: a.ledger,
          logger,
          tenants: config.tenants,
          publicUrl,
          outbox: a.outbox,
          targets: createReportTargets({ knex, tenants: config.tenants, publicUrl }),
          pdf: () => Promise.reject(new Error('HTML reports only in this test')),
        },
        { tenant, week, deliver: true },
      );
      if (!made) throw new Error(`no report made for ${tenant} ${week}`);
      return made;
    },
    async close() {
      for (const r of replicas) {
        await r.outbox.stop();
        await r.ledger.drain();
        await r.db.close();
      }
      await fresh.drop();
      await proxy.close();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
