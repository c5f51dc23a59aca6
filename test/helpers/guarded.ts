/**
 * A guarded runtime for safety tests: ingest → start runs → inline queue → engine with the real
 * guardrails (kill switches, budgets, Cedar, approvals, breakers) and the real API, as main.ts
 * wires them, on a test database.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type Chat, openChat } from '../../src/chat/chat.js';
import type { TenantConfig } from '../../src/config.js';
import { openGuardrails } from '../../src/guardrails/guardrails.js';
import { revealFields } from '../../src/ledger/disclosure.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import type { ReceiptPayload } from '../../src/ledger/receipt.js';
import { createEngine, type Engine } from '../../src/pipeline/engine.js';
import { parsePlaybook } from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { createStartRuns } from '../../src/pipeline/start-runs.js';
import { plugins } from '../../src/plugins/index.js';
import { validatePlugins } from '../../src/plugins/registry.js';
import { createInlineQueue } from '../../src/queue/inline-queue.js';
import type { PluginDefinition } from '../../src/sdk/index.js';
import { Secret } from '../../src/secret.js';
import type { Database } from '../../src/storage/database.js';
import { createRunLock } from '../../src/storage/run-lock.js';
import { getRunRow, getSteps, type RunStatus } from '../../src/storage/runs.js';
import { createTenant, createToken } from '../../src/tenancy/tenants.js';
import { createIngest } from '../../src/triggers/ingest.js';
import type { TriggerDraft } from '../../src/triggers/trigger-event.js';
import { buildApp } from './app.js';
import { createTestLedger } from './database.js';

export interface GuardedTenant {
  id: string;
  tier?: 'free' | 'pro' | 'enterprise';
  /** name → playbook YAML */
  playbooks: Record<string, string>;
  /** Cedar text for the tenant's own policies file. */
  policies?: string;
  plugins?: TenantConfig['plugins'];
  chat?: Partial<TenantConfig['chat']>;
}

/** Chat platforms to wire (fakes of their APIs run in the test). */
export interface GuardedChat {
  slack?: { signingSecret: string; botToken: string; apiUrl: string };
  teams?: Record<string, never>;
}

export const operatorToken = 'operator-token-for-tests-0123456789';

export async function startGuarded(opts: {
  db: Database;
  tenants: GuardedTenant[];
  extraPlugins?: PluginDefinition[];
  ledger?: Ledger;
  chat?: GuardedChat;
}) {
  const knex = opts.db.knex;
  const ledger = opts.ledger ?? (await createTestLedger(opts.db)).ledger;
  const deps = { knex, ledger };
  const catalog = validatePlugins([...plugins, ...(opts.extraPlugins ?? [])]);
  const dir = mkdtempSync(join(tmpdir(), 'warden-guarded-'));
  const tokens = new Map<string, { ingest: string; read: string; admin: string; ops: string }>();
  const configs: TenantConfig[] = [];
  for (const t of opts.tenants) {
    await createTenant(deps, { id: t.id, tier: t.tier ?? 'enterprise' }, 'test');
    const make = async (name: string, scope: 'ingest' | 'read' | 'admin') =>
      (await createToken(deps, { tenant: t.id, name, scope, source: 'cli' })).value;
    tokens.set(t.id, {
      ingest: await make('am', 'ingest'),
      read: await make('reader', 'read'),
      admin: await make('approver-bot', 'admin'),
      ops: await make('ops', 'admin'),
    });
    let policies: string | undefined;
    if (t.policies) {
      policies = join(dir, `${t.id}.cedar`);
      writeFileSync(policies, t.policies);
    }
    configs.push({
      id: t.id,
      tier: t.tier ?? 'enterprise',
      plugins: t.plugins ?? {},
      ingest: { events: {}, rateLimit: { perSecond: 10_000, burst: 10_000 } },
      chat: { operators: [], ...t.chat },
      ...(policies ? { policies } : {}),
    } as unknown as TenantConfig);
    const loaded = Object.entries(t.playbooks).map(([name, yaml]) => {
      const parsed = parsePlaybook(yaml, `${name}.yaml`);
      if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
      return { file: `${name}.yaml`, ...parsed };
    });
    await syncPlaybookVersions(deps, t.id, loaded);
  }
  const logger = pino({ level: 'silent' });
  const { guard, watch } = await openGuardrails({
    knex,
    ledger,
    catalog,
    tenants: configs,
    logger,
  });
  // Chat opens below, after the engine (as in serve): `chat.notify` reaches it once it is open.
  let runChat: Chat['postRunMessage'] | undefined;
  const engine: Engine = createEngine({
    knex,
    ledger,
    catalog,
    tenants: new Map(configs.map((c) => [c.id, c])),
    logger,
    guard,
    watch,
    runLock: createRunLock(knex, opts.db.engine),
    chat: (t, runId, message) => runChat?.(t, runId, message) ?? Promise.resolve([]),
  });
  const errors: unknown[] = [];
  const queue = createInlineQueue({ onError: (err) => errors.push(err) });
  await queue.start(async (t, id) => {
    await engine.process(t, id);
  });
  const ingest = createIngest({
    knex,
    ledger,
    startRuns: createStartRuns(),
    onRunsCommitted: (t, ids) => {
      for (const id of ids) void queue.enqueue(t, id);
    },
  });
  const chat = opts.chat
    ? await openChat({
        config: {
          tenants: configs,
          publicUrl: 'http://warden.test',
          slack: opts.chat.slack
            ? {
                signingSecret: new Secret(opts.chat.slack.signingSecret, 'literal'),
                botToken: new Secret(opts.chat.slack.botToken, 'literal'),
                apiUrl: opts.chat.slack.apiUrl,
              }
            : {},
          teams: {},
        },
        knex,
        ledger,
        catalog,
        guard,
        queue,
        logger,
      })
    : undefined;
  runChat = chat?.postRunMessage;
  const app = buildApp({
    ...(chat ? { chatRoutes: chat.routes } : {}),
    db: opts.db,
    ledger,
    ingest,
    queue,
    catalog,
    tenants: configs,
    logger,
    adminToken: new Secret(operatorToken, 'literal'),
    guard,
  });

  /** Fires one alert (a fresh alert state unless `fingerprint`/`startsAt` repeat one); its run ids. */
  async function fire(
    tenant: string,
    labels: Record<string, string>,
    alert: { fingerprint?: string; startsAt?: string; status?: 'firing' | 'resolved' } = {},
  ): Promise<string[]> {
    const fingerprint = alert.fingerprint ?? randomUUID().slice(0, 16);
    const startsAt = alert.startsAt ?? new Date().toISOString();
    const status = alert.status ?? 'firing';
    const draft: TriggerDraft = {
      source: 'alertmanager',
      kind: 'alert',
      status,
      fingerprint,
      dedupKey: `${fingerprint}:${startsAt}:${status}`,
      labels,
      annotations: { runbook_url: 'https://runbooks.example/ingest' },
      startsAt,
      endsAt: null,
      eventType: null,
      data: null,
      links: { generatorURL: 'https://prometheus.example/graph?g0.expr=up' },
    };
    const delivery = { bodyDigest: `sha256:${randomUUID()}`, receivedAt: new Date(), meta: {} };
    const [accepted] = await ingest.accept(tenant, delivery, [draft]);
    return accepted?.runs ?? [];
  }

  /** Calls the API with a tenant's token (`ingest`, `read`, `admin`, `ops`) or the operator's. */
  async function api(
    tenant: string,
    who: 'read' | 'admin' | 'ops' | 'operator',
    method: string,
    path: string,
    body?: unknown,
  ) {
    const token = who === 'operator' ? operatorToken : tokens.get(tenant)?.[who];
    const res = await app.request(`/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async function run(tenant: string, id: string) {
    const row = await getRunRow(knex, tenant, id);
    const steps = await getSteps(knex, tenant, id);
    return { status: row?.status as RunStatus, error: row?.error ?? null, steps };
  }

  /** The tenant's receipt payloads in order, private fields revealed from their Disclosures. */
  async function receipts(tenant: string, kind?: string): Promise<ReceiptPayload[]> {
    const rows: Array<{ body: string; seq: string | number }> = await knex('receipts')
      .where({ tenant_id: tenant })
      .modify((q) => {
        if (kind) q.where('kind', kind);
      })
      .orderBy('seq')
      .select('body', 'seq');
    const disclosures = new Map<number, string[]>();
    for (const d of await knex('receipt_disclosures').where({ tenant_id: tenant })) {
      disclosures.set(Number(d.seq), [...(disclosures.get(Number(d.seq)) ?? []), d.disclosure]);
    }
    return rows.map((r) =>
      revealFields(JSON.parse(r.body) as ReceiptPayload, disclosures.get(Number(r.seq)) ?? []),
    );
  }

  return {
    ledger,
    engine,
    queue,
    ingest,
    app,
    tokens,
    errors,
    fire,
    api,
    run,
    receipts,
    /** Chat, when the test configured it. */
    chat,
    /** Waits for the runs, then for what chat was told of them. */
    idle: async () => {
      await queue.idle();
      await chat?.flush();
      await queue.idle();
      await chat?.flush();
    },
    close: async () => {
      await queue.stop();
      await chat?.close();
    },
  };
}
