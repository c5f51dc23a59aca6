/**
 * The QA plan's end-to-end path, over real HTTP against a served Warden (`serve()`, as `warden serve`
 * runs it) on the embedded default and, when configured, on PostgreSQL + BullMQ:
 *
 *   an alert triggers a playbook → simulation and its receipt → execution within budget → the next
 *   alert is denied by the budget and routed to an approval ticket in a Slack thread (a local Slack
 *   Web API) → a forged click and a non-approver's click change nothing → the allowed user's signed
 *   click approves → the step executes → every receipt is anchored → the week's Trust Report is
 *   delivered to the bucket with its delivery receipt → the exported bundle verifies offline with
 *   the standalone script (docs/verify-bundle.mjs, run as its own process).
 */
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Server, serve } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { isoWeekOf } from '../../src/reports/iso-week.js';
import {
  type FakeSlackApi,
  signSlack,
  slackClickBody,
  startFakeSlackApi,
} from '../fakes/slack-api.js';
import { chromiumUnderTest } from '../helpers/chromium.js';
import {
  createFreshDatabase,
  databaseUrl,
  redisUrl,
  serviceAvailable,
  uniqueRedisPrefix,
} from '../helpers/services.js';

const root = resolve(import.meta.dirname, '../..');
const tokens = {
  ingest: 'wdn_qa_ingest_7d1e0c5a92b34f61',
  read: 'wdn_qa_read_3a9f1b7c0d2e4a58',
  admin: 'wdn_qa_admin_c8e2f4a6b0d13579',
};
const signingSecret = 'qa_slack_signing_secret_5c1d7e';
const team = 'T0ACME';
const channel = 'C0OPS';
const oncall = 'U0ONCALL';

/** A service the playbook restarts: counts every call, by Idempotency-Key. */
async function startTarget() {
  const calls: Array<{ path: string; key: string | undefined; body: string }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    calls.push({
      path: req.url ?? '',
      key: req.headers['idempotency-key'] as string | undefined,
      body: Buffer.concat(chunks).toString(),
    });
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end('{"status":"restarting"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const engines: Array<{ name: string; shared: boolean }> = [{ name: 'embedded', shared: false }];
if (serviceAvailable('DATABASE_URL') && serviceAvailable('REDIS_URL') && databaseUrl && redisUrl) {
  engines.push({ name: 'PostgreSQL + BullMQ', shared: true });
}

describe.each(engines)('QA plan E2E ($name)', ({ shared }) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-qa-'));
  const bucket = join(dir, 'bucket');
  let slack: FakeSlackApi;
  let target: Awaited<ReturnType<typeof startTarget>>;
  let server: Server;
  let dropDatabase = async () => {};

  beforeAll(async () => {
    slack = await startFakeSlackApi();
    target = await startTarget();
    const playbooks = join(dir, 'playbooks');
    mkdirSync(playbooks, { recursive: true });
    mkdirSync(bucket, { recursive: true });
    writeFileSync(
      join(playbooks, 'restart-ingest.yaml'),
      `apiVersion: warden/v1
kind: Playbook
metadata: { name: restart-ingest, owner: team-ingest }
spec:
  on:
    - alert: { source: alertmanager, match: { alertname: IngestStuck } }
  environment: production
  budgets: { actionsPerHour: 1, blastRadius: 1, costPerRun: 1, allowedEnvironments: [production] }
  approval: { approvers: [slack:${oncall}], minApprovals: 1, expiresIn: 30m }
  manualMinutes: 15
  steps:
    - id: restart
      uses: http.request
      with:
        method: POST
        url: "http://${target.host}/admin/restart"
        body: { shard: "{{ alert.labels.shard }}" }
`,
    );
    writeFileSync(
      join(dir, 'warden.yaml'),
      `tenants:
  - id: acme
    name: Acme Corp
    tier: enterprise
    tokens:
      - { name: am, scope: ingest, value: env:QA_INGEST }
      - { name: reader, scope: read, value: env:QA_READ }
      - { name: admin, scope: admin, value: env:QA_ADMIN }
    playbooks: ./playbooks
    plugins:
      http: { allowedHosts: ["${target.host}"] }
    anchoring: { enabled: true }
    chat:
      slack: { teamId: ${team}, channel: ${channel} }
    reports:
      format: ${chromiumUnderTest() ? 'pdf' : 'html'}
      deliver: [{ type: bucket, url: "${pathToFileURL(bucket).href}" }]
`,
    );
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      WARDEN_DATA_DIR: join(dir, 'data'),
      QA_INGEST: tokens.ingest,
      QA_READ: tokens.read,
      QA_ADMIN: tokens.admin,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      WARDEN_SIGNING_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    };
    if (shared) {
      const database = await createFreshDatabase();
      dropDatabase = database.drop;
      Object.assign(env, {
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl as string,
        WARDEN_REDIS_PREFIX: uniqueRedisPrefix(),
      });
    }
    const config = loadConfig({ configFile: join(dir, 'warden.yaml'), env, cwd: dir });
    server = await serve(config, { logger: createLogger({ level: 'silent' }) });
  });

  afterAll(async () => {
    await server?.stop();
    await dropDatabase();
    await slack?.close();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function api<T>(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function fire(shard: string, fingerprint: string): Promise<string> {
    const res = await fetch(`${server.url}/hooks/acme/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        status: 'firing',
        receiver: 'warden',
        groupLabels: { alertname: 'IngestStuck' },
        commonLabels: { alertname: 'IngestStuck' },
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'IngestStuck', shard },
            annotations: { summary: `ingest stuck on shard ${shard}` },
            startsAt: new Date().toISOString(),
            fingerprint,
          },
        ],
      }),
    });
    expect(res.status).toBe(202);
    const { accepted } = (await res.json()) as { accepted: Array<{ runs: string[] }> };
    const run = accepted[0]?.runs[0];
    expect(run, 'the alert started a run').toBeDefined();
    return run as string;
  }

  interface Run {
    status: string;
    steps: Array<{ id: string; status: string; decision: { outcome: string; reasons: string[] } }>;
  }

  async function runUntil(id: string, statuses: string[]): Promise<Run> {
    for (let i = 0; i < 300; i++) {
      const { body } = await api<Run>('GET', `/api/v1/runs/${id}`, tokens.read);
      if (statuses.includes(body.status)) return body;
      await sleep(100);
    }
    throw new Error(`run ${id} never reached ${statuses.join('|')}`);
  }

  interface ApiReceipt {
    payload: Record<string, unknown> & { id: string; kind: string; seq: number };
  }
  const receiptsOf = async (runId: string) =>
    (await api<{ receipts: ApiReceipt[] }>('GET', `/api/v1/receipts?run=${runId}`, tokens.read))
      .body.receipts;

  async function slackPost(body: string, sign = signingSecret) {
    const ts = Math.floor(Date.now() / 1000);
    return fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...signSlack(sign, body, ts),
      },
      body,
    });
  }

  const click = (user: string, ticket: string, cardTs: string) =>
    slackClickBody({
      user,
      team,
      channel,
      ticket,
      messageTs: cardTs,
      responseUrl: slack.responseUrl(`click-${user}`),
    });

  let firstRun = '';
  let deniedRun = '';

  it('simulates the run with a receipt, then executes it within budget', async () => {
    firstRun = await fire('3', 'qa-fp-1');
    const run = await runUntil(firstRun, ['succeeded', 'failed', 'denied']);
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]?.decision.outcome).toBe('allow');
    const kinds = (await receiptsOf(firstRun)).map((r) => r.payload.kind);
    expect(kinds[0]).toBe('run.simulated');
    expect(kinds).toContain('step.executed');
    expect(target.calls).toHaveLength(1);
    expect(JSON.parse(target.calls[0]?.body ?? '{}')).toEqual({ shard: '3' });
  });

  it('routes the budget denial to an approval ticket in the run’s Slack thread', async () => {
    deniedRun = await fire('4', 'qa-fp-2');
    const run = await runUntil(deniedRun, ['awaiting_approval', 'succeeded', 'failed', 'denied']);
    expect(run.status).toBe('awaiting_approval');
    expect(run.steps[0]?.decision.reasons).toContain('actions_per_hour_exceeded');
    expect(target.calls).toHaveLength(1);
    const { body } = await api<{ approvals: Array<{ id: string }> }>(
      'GET',
      `/api/v1/approvals?run=${deniedRun}&status=pending`,
      tokens.read,
    );
    const ticket = body.approvals[0]?.id as string;
    expect(ticket).toBeDefined();
    let card: (typeof slack.calls)[number] | undefined;
    for (let i = 0; i < 100 && !card; i++) {
      card = slack
        .callsTo('chat.postMessage')
        .find((c) => JSON.stringify(c.params.blocks ?? []).includes(ticket));
      if (!card) await sleep(100);
    }
    expect(card?.params.channel).toBe(channel);
    expect(card?.params.thread_ts, 'the card is in the run’s thread').toBeTruthy();
    const root = slack
      .callsTo('chat.postMessage')
      .find((c) => !c.params.thread_ts && JSON.stringify(c.params).includes(deniedRun));
    expect(root, 'the run’s thread root was posted').toBeDefined();
    const cardTs = `${String(card?.params.thread_ts)}-card`;

    // A forged click (wrong signing secret) is refused before it reaches Warden's logic.
    expect((await slackPost(click(oncall, ticket, cardTs), 'not-the-secret')).status).toBe(401);
    // A real user who is not an approver is refused (and receipted).
    expect((await slackPost(click('U0MALLORY', ticket, cardTs))).status).toBe(200);
    await sleep(300);
    expect((await runUntil(deniedRun, ['awaiting_approval'])).status).toBe('awaiting_approval');
    expect(target.calls).toHaveLength(1);

    // The allowed approver's signed click approves; the step executes once.
    expect((await slackPost(click(oncall, ticket, cardTs))).status).toBe(200);
    const done = await runUntil(deniedRun, ['succeeded', 'failed', 'denied', 'cancelled']);
    expect(done.status).toBe('succeeded');
    expect(target.calls).toHaveLength(2);
    expect(new Set(target.calls.map((c) => c.key)).size).toBe(2);
    const receipts = await receiptsOf(deniedRun);
    const executed = receipts.find((r) => r.payload.kind === 'step.executed');
    // The step's receipt names the approval that let it past its budget.
    expect(executed?.payload.decision).toMatchObject({
      outcome: 'allow',
      approvals: [expect.any(String)],
      budgets: { actionsPerHour: { limit: 1, used: 2 } },
    });
  });

  it('delivers the week’s Trust Report to the bucket with a delivery receipt', async () => {
    const week = isoWeekOf(new Date());
    const made = await api<{ report: { id: string; sha256: string; format: string } }>(
      'POST',
      '/api/v1/reports',
      tokens.admin,
      { week, deliver: true },
    );
    expect(made.status).toBe(201);
    const id = made.body.report.id;
    let deliveries: Array<{ status: string; location: string | null }> = [];
    for (let i = 0; i < 300; i++) {
      deliveries = (
        await api<{ deliveries: typeof deliveries }>('GET', `/api/v1/reports/${id}`, tokens.read)
      ).body.deliveries;
      if (deliveries.length > 0 && deliveries.every((d) => d.status !== 'pending')) break;
      await sleep(100);
    }
    expect(deliveries.map((d) => d.status)).toEqual(['delivered']);
    const file = join(bucket, 'acme', `acme-trust-report-${week}.${made.body.report.format}`);
    const bytes = readFileSync(file);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(made.body.report.sha256);
    const { body } = await api<{ receipts: ApiReceipt[] }>(
      'GET',
      '/api/v1/receipts?kind=delivery.finished',
      tokens.read,
    );
    expect(body.receipts.find((r) => r.payload.report === id)?.payload).toMatchObject({
      outcome: 'delivered',
    });
  });

  it('anchors every receipt, and the exported bundle verifies offline with the standalone script', async () => {
    const res = await fetch(`${server.url}/api/v1/export`, {
      headers: { authorization: `Bearer ${tokens.read}` },
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as {
      receipts: ApiReceipt[];
      proofs: Array<{ receiptId: string }>;
    };
    const proved = new Set(bundle.proofs.map((p) => p.receiptId));
    for (const run of [firstRun, deniedRun]) {
      for (const r of await receiptsOf(run)) expect(proved.has(r.payload.id)).toBe(true);
    }
    expect(bundle.receipts.every((r) => proved.has(r.payload.id))).toBe(true);
    const file = join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify(bundle));
    const verified = spawnSync(process.execPath, [join(root, 'docs/verify-bundle.mjs'), file], {
      encoding: 'utf8',
    });
    expect(verified.stdout).toContain('OK: every check passed.');
    expect(verified.status).toBe(0);
    // One changed byte in a receipt fails it.
    const tampered = JSON.parse(JSON.stringify(bundle)) as typeof bundle;
    (tampered.receipts[0] as ApiReceipt).payload.kind = 'tampered';
    writeFileSync(file, JSON.stringify(tampered));
    const refused = spawnSync(process.execPath, [join(root, 'docs/verify-bundle.mjs'), file], {
      encoding: 'utf8',
    });
    expect(refused.status).toBe(1);
  });
});
