/**
 * Outside witnesses: each new checkpoint of an anchored tenant reaches the tenant's Standard Webhooks
 * endpoint and bucket; a witness that is down for a few attempts gets it once it recovers, under the
 * same webhook-id; the note it holds verifies with the log's public key.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeliveryTarget } from '../../src/delivery/delivery.js';
import { createAnchoring } from '../../src/ledger/anchor.js';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { createSigner, generateSigningKey, rawPublicKey } from '../../src/ledger/ed25519.js';
import { createLedger } from '../../src/ledger/ledger.js';
import { verifierKey } from '../../src/ledger/signed-note.js';
import { createWitness } from '../../src/ledger/witness.js';
import { Secret } from '../../src/secret.js';
import { createTenant } from '../../src/tenancy/tenants.js';
import { type FakeWebhookReceiver, startWebhookReceiver } from '../fakes/webhook-receiver.js';
import { describeEngines } from '../helpers/database.js';

describeEngines('outside witness', ({ db }) => {
  const signer = createSigner(generateSigningKey());
  const logger = pino({ level: 'silent' });
  let receiver: FakeWebhookReceiver;
  let dir: string;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    dir = await mkdtemp(join(tmpdir(), 'warden-witness-'));
  });
  afterAll(async () => {
    await receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pushes each new checkpoint to the webhook and the bucket, retrying a witness that is down', async () => {
    const ledger = await createLedger({ knex: db().knex, signer });
    await createTenant({ knex: db().knex, ledger }, { id: 'acme', tier: 'enterprise' }, 'test');
    const targets = [
      createDeliveryTarget({
        type: 'webhook',
        url: receiver.url,
        secret: new Secret(receiver.secret, 'literal'),
      }),
      createDeliveryTarget({ type: 'bucket', url: pathToFileURL(dir).href }),
    ];
    const pushes: Array<[string, number, boolean]> = [];
    const witness = createWitness({
      targets: (t) => (t === 'acme' ? targets : []),
      logger,
      backoffMs: 20,
      onPush: (_t, target, size, ok) => pushes.push([target.split(' ')[0] as string, size, ok]),
    });
    const anchoring = createAnchoring({
      knex: db().knex,
      signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async () => true,
      logger,
      onCheckpoint: (t, cp) => witness.publish(t, cp),
    });
    receiver.behave({ status: 503 }, 2); // down for two attempts
    for (let i = 0; i < 4; i++)
      await ledger.append('acme', { kind: 'tenant.updated', data: { i } });
    const cp = await anchoring.anchor('acme');
    await witness.drain();

    expect(pushes.filter(([, , ok]) => ok).map(([t, size]) => [t, size])).toEqual(
      expect.arrayContaining([
        ['webhook', cp?.size],
        ['bucket', cp?.size],
      ]),
    );
    const ids = receiver.attempts.map((a) => a.headers['webhook-id']);
    expect(ids).toEqual([ids[0], ids[0], ids[0]]); // two refusals, then accepted: one id
    const event = receiver.processed.get(ids[0] as string) as {
      type: string;
      data: { content: string; sha256: string };
    };
    expect(event.type).toBe('checkpoint.published');
    const note = Buffer.from(event.data.content, 'base64').toString('utf8');
    expect(note).toBe(cp?.note);
    const origin = 'warden.test/acme';
    expect(
      verifyCheckpoint(note, verifierKey(origin, rawPublicKey(signer.publicKey)), origin).ok,
    ).toBe(true);
    const name = `checkpoint-${String(cp?.size).padStart(12, '0')}.txt`;
    expect(await readFile(join(dir, 'acme', name), 'utf8')).toBe(cp?.note);
  });

  it('gives up on a witness that refuses for good, without retrying', async () => {
    const ledger = await createLedger({ knex: db().knex, signer });
    await createTenant({ knex: db().knex, ledger }, { id: 'globex', tier: 'enterprise' }, 'test');
    const before = receiver.attempts.length;
    const outcomes: boolean[] = [];
    const witness = createWitness({
      targets: () => [
        createDeliveryTarget({
          type: 'webhook',
          url: receiver.url,
          secret: new Secret(receiver.secret, 'literal'),
        }),
      ],
      logger,
      backoffMs: 20,
      onPush: (_t, _target, _size, ok) => outcomes.push(ok),
    });
    receiver.behave({ status: 404 }, 1);
    await ledger.append('globex', { kind: 'tenant.updated', data: {} });
    await createAnchoring({
      knex: db().knex,
      signer,
      origin: (t) => `warden.test/${t}`,
      enabled: async () => true,
      logger,
      onCheckpoint: (t, cp) => witness.publish(t, cp),
    }).anchor('globex');
    await witness.drain();
    expect(receiver.attempts.length - before).toBe(1);
    expect(outcomes).toEqual([false]);
  });
});
