/**
 * A real Prometheus Alertmanager (the Debian package's `prometheus-alertmanager`) delivering to Warden
 * started in-process with `serve()`: firing → trigger + receipt, resolved → linked to the firing
 * trigger, and the exact body Alertmanager sent, posted again → `duplicate: true`.
 *
 * Alertmanager also delivers every notification to a capture server started here (a second
 * webhook_config of the same receiver), so the test holds the bytes Warden was sent.
 *
 * Engines: PGlite in the temp data dir, and, when DATABASE_URL is set, PostgreSQL in a throwaway
 * database (`warden_test_<random>`, dropped afterwards): serve() takes no schema, so a database of
 * its own is how the run stays isolated. Without the binary the suite is skipped, or fails under
 * WARDEN_REQUIRE_SERVICES=1.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Server, serve } from '../../src/main.js';
import { listTriggers } from '../../src/storage/triggers.js';
import type { TriggerEvent } from '../../src/triggers/trigger-event.js';
import { enginesUnderTest, requireServices } from '../helpers/database.js';
import { createFreshDatabase } from '../helpers/services.js';

const alertmanagerBin = 'prometheus-alertmanager';
const hasAlertmanager = spawnSync(alertmanagerBin, ['--version']).status === 0;
const hasAmtool = spawnSync('amtool', ['--version']).status === 0;

const tenant = 'acme';
const ingestToken = `wdn_test_ingest_${randomBytes(16).toString('hex')}`;
const readToken = `wdn_test_read_${randomBytes(16).toString('hex')}`;

const labels = {
  alertname: 'HighErrorRate',
  instance: 'checkout-1:8080',
  playbook: 'restart-checkout',
  service: 'checkout',
  severity: 'critical',
};
const annotations = {
  summary: 'Checkout 5xx rate above 5%',
  description: '5xx ratio 7.3% over 5m',
};
const generatorURL = 'http://prometheus.example.invalid/graph?g0.expr=rate';

interface Capture {
  url: string;
  bodies: Array<{ headers: IncomingHttpHeaders; raw: Buffer }>;
  close(): Promise<void>;
}

/** The second webhook of the receiver: records each body exactly as received, answers 200. */
async function startCapture(): Promise<Capture> {
  const bodies: Capture['bodies'] = [];
  const server: HttpServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/capture`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port free right now on loopback (Alertmanager takes an address, not port 0). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Polls `fn` every 100 ms until it returns a value, or throws after `ms`, with `context()` (e.g.
 * Alertmanager's log, which names the status Warden answered) in the message.
 */
async function waitFor<T>(
  what: string,
  ms: number,
  fn: () => Promise<T | undefined>,
  context: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${context()}`.trim());
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Alertmanager {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function startAlertmanager(dir: string, configFile: string): Promise<Alertmanager> {
  const port = await freePort();
  const child = spawn(
    alertmanagerBin,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      '--cluster.listen-address=', // no HA gossip (default 0.0.0.0:9094)
      '--log.level=warn', // its failed deliveries (with Warden's answer) land in output()
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const am: Alertmanager = {
    url,
    child,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor('Alertmanager /-/ready', 10_000, async () => {
      if (child.exitCode !== null) {
        throw new Error(`prometheus-alertmanager exited (${child.exitCode}):\n${tail.trim()}`);
      }
      const res = await fetch(`${url}/-/ready`).catch(() => undefined);
      return res?.ok ? true : undefined;
    });
  } catch (err) {
    await am.stop();
    throw err;
  }
  return am;
}

/** Alertmanager config as the fixture's, faster: first flush after 1 s, changes every 2 s. */
function alertmanagerConfig(wardenUrl: string, captureUrl: string): string {
  const http_config = { authorization: { type: 'Bearer', credentials: ingestToken } };
  const config = {
    route: {
      receiver: 'warden',
      group_by: ['alertname'],
      group_wait: '1s',
      group_interval: '2s',
      repeat_interval: '1h',
    },
    receivers: [
      {
        name: 'warden',
        webhook_configs: [
          { url: `${wardenUrl}/hooks/${tenant}/alertmanager`, send_resolved: true, http_config },
          { url: captureUrl, send_resolved: true, http_config },
        ],
      },
    ],
  };
  return JSON.stringify(config, null, 2); // JSON is YAML
}

async function postAlerts(am: Alertmanager, alerts: unknown[]): Promise<void> {
  const res = await fetch(`${am.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  expect(res.status, await res.text()).toBe(200);
}

describe.skipIf(!hasAlertmanager && !requireServices)('real Alertmanager → Warden', () => {
  for (const engine of enginesUnderTest()) {
    describe(`hooks/alertmanager [${engine}]`, () => {
      let dir: string;
      let warden: Server | undefined;
      let am: Alertmanager | undefined;
      let capture: Capture | undefined;
      let database: { url: string; drop(): Promise<void> } | undefined;
      let amConfigFile: string;
      const startsAt = new Date(Date.now() - 60_000).toISOString();
      let firing: TriggerEvent;
      let resolved: TriggerEvent;

      /** What Alertmanager logged (failed deliveries quote Warden's answer) and what it sent. */
      const deliveryLog = () =>
        `Alertmanager log:\n${am?.output().trim() || '(empty)'}\n` +
        `captured: ${capture?.bodies.map((b) => JSON.parse(b.raw.toString('utf8')).status).join(', ') || 'nothing'}`;

      const knex = () => {
        if (!warden) throw new Error('Warden is not running');
        return warden.runtime.db.knex;
      };
      const triggers = (status: 'firing' | 'resolved') =>
        listTriggers(knex(), tenant, {
          source: 'alertmanager',
          status,
          limit: 10,
        });

      beforeAll(async () => {
        if (!hasAlertmanager) {
          throw new Error(
            `WARDEN_REQUIRE_SERVICES=1 but ${alertmanagerBin} is not installed. Fix: apt-get install -y prometheus-alertmanager`,
          );
        }
        dir = await mkdtemp(join(tmpdir(), 'warden-am-'));
        const configFile = join(dir, 'warden.yaml');
        await writeFile(
          configFile,
          [
            'tenants:',
            `  - id: ${tenant}`,
            '    tier: enterprise',
            '    tokens:',
            '      - { name: alertmanager, scope: ingest, value: env:WARDEN_TEST_AM_INGEST }',
            '      - { name: reader, scope: read, value: env:WARDEN_TEST_AM_READ }',
            '',
          ].join('\n'),
        );
        if (engine === 'postgres') database = await createFreshDatabase();
        const config = loadConfig({
          configFile,
          cwd: dir,
          port: 0,
          dataDir: join(dir, 'warden-data'),
          env: {
            HOST: '127.0.0.1',
            LOG_LEVEL: 'silent',
            WARDEN_TEST_AM_INGEST: ingestToken,
            WARDEN_TEST_AM_READ: readToken,
            ...(database ? { DATABASE_URL: database.url } : {}),
          },
        });
        warden = await serve(config, { logger: pino({ level: 'silent' }) });
        capture = await startCapture();
        amConfigFile = join(dir, 'alertmanager.yml');
        await writeFile(amConfigFile, alertmanagerConfig(warden.url, capture.url));
        am = await startAlertmanager(dir, amConfigFile);
      });

      afterAll(async () => {
        try {
          await am?.stop();
          await capture?.close();
          await warden?.stop();
        } finally {
          await database?.drop();
          if (dir) await rm(dir, { recursive: true, force: true });
        }
      });

      it.skipIf(!hasAmtool)('amtool check-config accepts the config', () => {
        const run = spawnSync('amtool', ['check-config', amConfigFile], { encoding: 'utf8' });
        expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
      });

      it('stores the firing alert Alertmanager delivers, with its receipt', async () => {
        await postAlerts(am as Alertmanager, [{ labels, annotations, generatorURL, startsAt }]);
        const found = await waitFor(
          'the firing trigger',
          10_000,
          async () => {
            const rows = await triggers('firing');
            return rows.length > 0 ? rows : undefined;
          },
          deliveryLog,
        );
        expect(found).toHaveLength(1);
        firing = found[0] as TriggerEvent;
        expect(firing).toMatchObject({
          tenant,
          source: 'alertmanager',
          kind: 'alert',
          status: 'firing',
          labels,
          annotations,
          startsAt,
          endsAt: null,
          resolves: null,
          links: { generator: generatorURL, alertmanager: am?.url },
        });
        expect(firing.fingerprint).toMatch(/^[0-9a-f]{16}$/);
        // Alertmanager writes startsAt its own way (Go drops trailing zeros: .270Z → .27Z).
        const [, keyedStart] =
          /^alertmanager:[0-9a-f]{16}:firing:(.+)$/.exec(firing.dedupKey) ?? [];
        expect(firing.dedupKey.startsWith(`alertmanager:${firing.fingerprint}:firing:`)).toBe(true);
        expect(Date.parse(keyedStart ?? '')).toBe(Date.parse(startsAt));

        const res = await fetch(`${warden?.url}/api/v1/receipts?kind=trigger.received`, {
          headers: { authorization: `Bearer ${readToken}` },
        });
        expect(res.status).toBe(200);
        const { receipts } = (await res.json()) as {
          receipts: Array<{ payload: Record<string, unknown> }>;
        };
        expect(receipts).toHaveLength(1);
        expect(receipts[0]?.payload).toMatchObject({
          id: firing.receiptId,
          tenant,
          kind: 'trigger.received',
          trigger: firing.id,
          source: 'alertmanager',
          triggerKind: 'alert',
          status: 'firing',
          fingerprint: firing.fingerprint,
          labels,
          resolves: null,
          bodyDigest: firing.bodyDigest,
          delivery: { receiver: 'warden', groupKey: '{}:{alertname="HighErrorRate"}' },
        });
      });

      it('links the resolved notification to the firing trigger', async () => {
        const endsAt = new Date().toISOString();
        await postAlerts(am as Alertmanager, [
          { labels, annotations, generatorURL, startsAt, endsAt },
        ]);
        const found = await waitFor(
          'the resolved trigger',
          10_000,
          async () => {
            const rows = await triggers('resolved');
            return rows.length > 0 ? rows : undefined;
          },
          deliveryLog,
        );
        expect(found).toHaveLength(1);
        resolved = found[0] as TriggerEvent;
        expect(resolved).toMatchObject({
          status: 'resolved',
          fingerprint: firing.fingerprint,
          labels,
          startsAt,
          resolves: firing.id,
        });
        expect(resolved.endsAt).not.toBeNull();
        expect(resolved.receiptId).not.toBe(firing.receiptId);
      });

      it('answers the exact bodies Alertmanager sent, posted again, as duplicates', async () => {
        if (!firing || !resolved) throw new Error('needs the triggers stored by the tests above');
        // Alertmanager notifies both webhooks in parallel: the capture may trail Warden a little.
        const byStatus = (status: string) =>
          waitFor(
            `the captured ${status} body`,
            5_000,
            async () =>
              (capture as Capture).bodies.find(
                (b) => (JSON.parse(b.raw.toString('utf8')) as { status: string }).status === status,
              ),
            deliveryLog,
          );
        const firingBody = await byStatus('firing');
        const resolvedBody = await byStatus('resolved');
        expect(firingBody.headers['user-agent']).toMatch(/^Alertmanager\//);
        expect(firingBody.headers.authorization).toBe(`Bearer ${ingestToken}`);
        // The capture holds the very bytes Warden digested.
        const digest = (raw: Buffer) => `sha256:${createHash('sha256').update(raw).digest('hex')}`;
        expect(digest(firingBody.raw)).toBe(firing.bodyDigest);
        expect(digest(resolvedBody.raw)).toBe(resolved.bodyDigest);

        for (const [body, trigger] of [
          [firingBody, firing],
          [resolvedBody, resolved],
        ] as const) {
          const res = await fetch(`${warden?.url}/hooks/${tenant}/alertmanager`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${ingestToken}`,
              'user-agent': String(body.headers['user-agent']),
            },
            body: body.raw,
          });
          expect(res.status).toBe(202);
          expect(await res.json()).toEqual({
            accepted: [{ triggerId: trigger.id, duplicate: true, runs: [] }],
          });
        }
        expect(await triggers('firing')).toHaveLength(1);
        expect(await triggers('resolved')).toHaveLength(1);
        const receipts = await knex()('receipts')
          .where({ tenant_id: tenant, kind: 'trigger.received' })
          .count<Array<{ n: string | number }>>('* as n');
        expect(Number(receipts?.[0]?.n)).toBe(2);
      });
    });
  }
});
