/**
 * `POST /api/v1/playbooks/:name/disable|enable` through the app: admin only, the answer's shape, the
 * receipt it points at, `GET /playbooks` showing why, and a disabled playbook refusing manual runs.
 */
import { beforeAll, expect, it } from 'vitest';
import type { Receipt } from '../../src/ledger/receipt.js';
import { parsePlaybook } from '../../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../../src/pipeline/playbook-versions.js';
import { createTenant, createToken } from '../../src/tenancy/tenants.js';
import { buildApp } from '../helpers/app.js';
import { createTestLedger, describeEngines } from '../helpers/database.js';

interface ListedPlaybook {
  name: string;
  disabled: boolean;
  disabledReason: string | null;
}

const yaml = (name: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  on: [{ alert: { match: { alertname: Lag } } }]
  autoDisable: { consecutiveFailures: 3 }
  steps: [{ id: tell, uses: chat.notify, with: { text: "lag" } }]
`;

describeEngines('playbook disable and enable API', ({ db }) => {
  let app: ReturnType<typeof buildApp>;
  const tokens = { read: '', admin: '', otherAdmin: '' };

  beforeAll(async () => {
    const { ledger } = await createTestLedger(db());
    const deps = { knex: db().knex, ledger };
    for (const id of ['alpha', 'beta']) await createTenant(deps, { id, tier: 'pro' }, 'test');
    const token = async (tenant: string, name: string, scope: 'read' | 'admin') =>
      (await createToken(deps, { tenant, name, scope, source: 'cli' })).value;
    tokens.read = await token('alpha', 'viewer', 'read');
    tokens.admin = await token('alpha', 'oncall-bot', 'admin');
    tokens.otherAdmin = await token('beta', 'beta-admin', 'admin');
    const parsed = parsePlaybook(yaml('restart-ingest'), 'restart-ingest.yaml');
    if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
    await syncPlaybookVersions(deps, 'alpha', [{ file: 'restart-ingest.yaml', ...parsed }]);
    app = buildApp({ db: db(), ledger });
  });

  /** A request with a bearer token; a JSON body when one is given. */
  const call = async (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => {
    const res = await app.request(`/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const post = (path: string, token: string, body?: unknown) => call('POST', path, token, body);
  const listed = async () => {
    const { body } = await call('GET', '/playbooks', tokens.read);
    return (body.playbooks as ListedPlaybook[]).find((p) => p.name === 'restart-ingest');
  };
  const receipt = async (id: unknown) =>
    (await call('GET', `/receipts/${id}`, tokens.read)).body as unknown as Receipt;

  it('refuses a read token (403), no token (401) and an unknown playbook (404)', async () => {
    const read = await post('/playbooks/restart-ingest/disable', tokens.read, {});
    expect(read.status).toBe(403);
    expect(read.body).toEqual({
      error: { code: 'forbidden', message: expect.stringContaining('needs admin') },
    });
    expect((await post('/playbooks/restart-ingest/enable', tokens.read)).status).toBe(403);
    const anonymous = await app.request('/api/v1/playbooks/restart-ingest/disable', {
      method: 'POST',
    });
    expect(anonymous.status).toBe(401);
    const unknown = await post('/playbooks/nope/disable', tokens.admin);
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as { code: string }).code).toBe('not_found');
    // Another tenant's admin cannot reach alpha's playbook.
    expect((await post('/playbooks/restart-ingest/disable', tokens.otherAdmin)).status).toBe(404);
    expect(await listed()).toMatchObject({ disabled: false, disabledReason: null });
  });

  it('refuses a reason over 1000 characters (422)', async () => {
    const res = await post('/playbooks/restart-ingest/disable', tokens.admin, {
      reason: 'x'.repeat(1001),
    });
    expect(res.status).toBe(422);
    expect(await listed()).toMatchObject({ disabled: false });
  });

  it('disables with a reason and a receipt naming the token; GET /playbooks shows why', async () => {
    const res = await post('/playbooks/restart-ingest/disable', tokens.admin, {
      reason: 'flapping',
    });
    expect(res).toEqual({
      status: 200,
      body: {
        playbook: 'restart-ingest',
        disabled: true,
        changed: true,
        receipt: expect.any(String),
      },
    });
    expect((await receipt(res.body.receipt)).payload).toMatchObject({
      kind: 'playbook.disabled',
      playbook: 'restart-ingest',
      version: 1,
      actor: 'api:oncall-bot',
      reason: 'flapping',
    });
    expect(await listed()).toMatchObject({ disabled: true, disabledReason: 'flapping' });

    const again = await post('/playbooks/restart-ingest/disable', tokens.admin, { reason: 'x' });
    expect(again.body).toEqual({
      playbook: 'restart-ingest',
      disabled: true,
      changed: false,
      receipt: null,
    });
    expect(await listed()).toMatchObject({ disabledReason: 'flapping' });
  });

  it('refuses a manual run of the disabled playbook with 409', async () => {
    const res = await post('/playbooks/restart-ingest/run', tokens.admin, {});
    expect(res.status).toBe(409);
    expect((res.body.error as { code: string }).code).toBe('conflict');
  });

  it('enables without a body, then disables again with the default reason', async () => {
    const res = await app.request('/api/v1/playbooks/restart-ingest/enable', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      playbook: 'restart-ingest',
      disabled: false,
      changed: true,
      receipt: expect.any(String),
    });
    expect((await receipt(body.receipt)).payload).toMatchObject({
      kind: 'playbook.enabled',
      actor: 'api:oncall-bot',
      reason: null,
    });
    expect(await listed()).toMatchObject({ disabled: false, disabledReason: null });
    expect((await post('/playbooks/restart-ingest/enable', tokens.admin)).body).toMatchObject({
      changed: false,
      receipt: null,
    });

    await post('/playbooks/restart-ingest/disable', tokens.admin);
    expect(await listed()).toMatchObject({
      disabled: true,
      disabledReason: 'Disabled by api:oncall-bot.',
    });
  });
});
