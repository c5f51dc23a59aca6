import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { exportBundle } from '../../src/ledger/bundle.js';
import { newReceiptId } from '../../src/ledger/receipt.js';
import { verifyBundle } from '../../src/ledger/verify-bundle.js';
import { openDatabase } from '../../src/storage/database.js';
import { createTestLedger, databaseUrl, describeEngines } from '../helpers/database.js';
import { startLostAnswerProxy } from '../helpers/lost-answer-proxy.js';

/** Exports the tenant's evidence bundle, expects it to verify, and returns it. */
async function verifiedBundle(knex: Knex, tenant: string) {
  const bundle = await exportBundle(knex, tenant);
  expect(verifyBundle(bundle).ok).toBe(true);
  return bundle;
}

/** What `work` resolves to, and the SQL of every statement `knex` sent while it ran. */
async function watchStatements<T>(
  knex: Knex,
  work: () => Promise<T>,
): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const onQuery = (q: { sql: string }) => statements.push(q.sql);
  knex.on('query', onQuery);
  try {
    return { result: await work(), statements };
  } finally {
    knex.off('query', onQuery);
  }
}

const isChainStatement = (sql: string) => /^\s*with head as/.test(sql);

/** PostgreSQL in a schema of its own, through a pool of one connection; closing drops the schema. */
async function openPoolOfOne() {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  await (await openDatabase({ databaseUrl, schema })).close(); // migrating takes two connections
  const db = await openDatabase({ databaseUrl, schema, poolMax: 1, migrate: false });
  return {
    ...db,
    async close() {
      await db.knex.raw('drop schema if exists ?? cascade', [schema]);
      await db.close();
    },
  };
}

describeEngines('ledger', ({ db }) => {
  it('chains receipts per tenant from seq 1 with prev links', async () => {
    const { ledger } = await createTestLedger(db(), ['chain-a', 'chain-b']);
    const a1 = await ledger.append('chain-a', { kind: 'tenant.updated', data: { n: 1 } });
    const b1 = await ledger.append('chain-b', { kind: 'tenant.updated', data: { n: 1 } });
    const a2 = await ledger.append('chain-a', { kind: 'tenant.updated', data: { n: 2 } });
    expect([a1.payload.seq, b1.payload.seq, a2.payload.seq]).toEqual([1, 1, 2]);
    expect(a1.payload.prev).toBeNull();
    expect(a2.payload.prev).toBe(a1.digest);
  });

  it('keeps 1,000 receipts from 20 concurrent callers gap-free and verifiable', async () => {
    const { ledger } = await createTestLedger(db(), ['busy']);
    await Promise.all(
      Array.from({ length: 20 }, async (_, caller) => {
        for (let i = 0; i < 50; i++) {
          await ledger.append('busy', { kind: 'tenant.updated', data: { caller, i } });
        }
      }),
    );
    const bundle = await verifiedBundle(db().knex, 'busy');
    expect(bundle.receipts.map((r) => r.payload.seq)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
  });

  it('refuses UPDATE, DELETE and TRUNCATE on receipts at the database', async () => {
    const { ledger } = await createTestLedger(db(), ['immutable']);
    const r = await ledger.append('immutable', { kind: 'tenant.updated' });
    const receipts = () => db().knex('receipts').where({ id: r.payload.id });
    await expect(receipts().update({ kind: 'x' })).rejects.toThrow(/append-only: UPDATE/);
    await expect(receipts().delete()).rejects.toThrow(/append-only: DELETE/);
    await expect(db().knex.raw('truncate receipts cascade')).rejects.toThrow(/append-only/);
    expect((await receipts().first())?.kind).toBe('tenant.updated');
  });

  it('rejects a receipt for an unknown tenant with not_found and keeps other appends', async () => {
    const { ledger } = await createTestLedger(db(), ['known']);
    const [bad, good] = await Promise.allSettled([
      ledger.append('ghost', { kind: 'tenant.updated' }),
      ledger.append('known', { kind: 'tenant.updated' }),
    ]);
    expect(bad.status === 'rejected' && bad.reason.code).toBe('not_found');
    expect(good.status).toBe('fulfilled');
  });

  it('does not let a draft override ledger-owned fields', async () => {
    const { ledger } = await createTestLedger(db(), ['owned']);
    await expect(
      ledger.append('owned', { kind: 'tenant.updated', data: { seq: 99 } }),
    ).rejects.toThrow(/set by the ledger/);
  });
});

describeEngines('ledger batching', ({ db }) => {
  it('commits appends that arrive while the last batch is committing', async () => {
    const { ledger } = await createTestLedger(db(), ['late']);
    const knex = db().knex;
    for (let round = 0; round < 5; round++) {
      // Fire the second append exactly while the first one's chain statement (with its INSERT) is on its way.
      const second = new Promise<unknown>((resolve) => {
        const onQuery = (q: { sql: string }) => {
          if (!/insert into "?receipts"? /.test(q.sql)) return;
          knex.off('query', onQuery);
          resolve(ledger.append('late', { kind: 'tenant.updated', data: { round, late: true } }));
        };
        knex.on('query', onQuery);
      });
      const first = ledger.append('late', { kind: 'tenant.updated', data: { round } });
      const settled = await Promise.race([
        Promise.all([first, second]).then(() => 'committed'),
        new Promise((resolve) => setTimeout(() => resolve('lost'), 3000)),
      ]);
      expect(settled).toBe('committed');
    }
    const bundle = await verifiedBundle(knex, 'late');
    expect(bundle.receipts).toHaveLength(10);
  });

  it('reseals under the lock when another writer moved the head', async () => {
    const one = await createTestLedger(db(), ['shared']);
    const two = await createTestLedger(db(), ['shared']);
    const rounds = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            (i % 2 ? one : two).ledger.append('shared', { kind: 'tenant.updated', data: { i, j } }),
          ),
        ),
      ),
    );
    expect(rounds.flat()).toHaveLength(600);
    const bundle = await verifiedBundle(db().knex, 'shared');
    expect(bundle.receipts.map((r) => r.payload.seq)).toEqual(
      Array.from({ length: 600 }, (_, i) => i + 1),
    );
    expect(bundle.keys).toHaveLength(2);
  });

  it('keeps the chain whole when an append in a transaction rolls back', async () => {
    const { ledger } = await createTestLedger(db(), ['rollback']);
    const knex = db().knex;
    await ledger.append('rollback', { kind: 'tenant.updated', data: { n: 1 } });
    await expect(
      knex.transaction(async (trx) => {
        await ledger.appendIn(trx, 'rollback', [{ kind: 'tenant.updated', data: { gone: true } }]);
        throw new Error('the caller changed its mind');
      }),
    ).rejects.toThrow(/changed its mind/);
    // The rolled-back receipt's seq is free again: the next append reads the committed head.
    const next = await ledger.append('rollback', { kind: 'tenant.updated', data: { n: 2 } });
    expect(next.payload.seq).toBe(2);
    const bundle = await verifiedBundle(knex, 'rollback');
    expect(bundle.receipts.map((r) => r.payload.n)).toEqual([1, 2]);
  });

  it('appends twice in one transaction, on the head it already holds', async () => {
    const { ledger } = await createTestLedger(db(), ['twice']);
    const [a, b] = await db().knex.transaction(async (trx) => [
      ...(await ledger.appendIn(trx, 'twice', [{ kind: 'tenant.updated', data: { n: 1 } }])),
      ...(await ledger.appendIn(trx, 'twice', [{ kind: 'tenant.updated', data: { n: 2 } }])),
    ]);
    expect([a?.payload.seq, b?.payload.seq]).toEqual([1, 2]);
    expect(b?.payload.prev).toBe(a?.digest);
    await verifiedBundle(db().knex, 'twice');
  });

  it('gives a receipt the id its caller reserved, and refuses one that is not a UUID', async () => {
    const { ledger } = await createTestLedger(db(), ['reserved']);
    const id = newReceiptId();
    const r = await ledger.append('reserved', { kind: 'tenant.updated', id });
    expect(r.payload.id).toBe(id);
    await expect(
      ledger.append('reserved', { kind: 'tenant.updated', id: '../../etc/passwd' }),
    ).rejects.toThrow(/not a lower-case UUID/);
    const stored = await db().knex('receipts').where({ tenant_id: 'reserved' }).select('id');
    expect(stored.map((row: { id: string }) => row.id)).toEqual([id]);
  });
});

describeEngines('ledger appends in overlapping transactions', ({ db, engine }) => {
  // PGlite has one connection: its transactions cannot overlap.
  it.skipIf(engine === 'pglite')(
    'queues the second behind the first, which holds the chain head until it commits',
    async () => {
      const { ledger } = await createTestLedger(db(), ['overlap']);
      const knex = db().knex;
      await ledger.append('overlap', { kind: 'tenant.updated', data: { n: 0 } });
      let commitFirst = () => {};
      const firstHolds = new Promise<void>((appended) => {
        void knex.transaction(async (trx) => {
          await ledger.appendIn(trx, 'overlap', [{ kind: 'tenant.updated', data: { n: 1 } }]);
          appended();
          await new Promise<void>((r) => {
            commitFirst = r;
          });
        });
      });
      await firstHolds;
      let secondDone = false;
      const second = knex
        .transaction((trx) =>
          ledger.appendIn(trx, 'overlap', [{ kind: 'tenant.updated', data: { n: 2 } }]),
        )
        .then((receipts) => {
          secondDone = true;
          return receipts;
        });
      await new Promise((r) => setTimeout(r, 200));
      expect(secondDone).toBe(false); // waiting for the head the first transaction holds
      commitFirst();
      const [r2] = await second;
      expect(r2?.payload.seq).toBe(3);
      const bundle = await verifiedBundle(knex, 'overlap');
      expect(bundle.receipts.map((r) => r.payload.seq)).toEqual([1, 2, 3]);
    },
  );

  it.skipIf(engine === 'pglite')(
    'lets a savepoint append on the head its outer transaction holds while another waits for it',
    async () => {
      const { ledger } = await createTestLedger(db(), ['nested']);
      const knex = db().knex;
      let waiting: Promise<unknown> = Promise.resolve();
      const outer = knex.transaction(async (trx) => {
        await ledger.appendIn(trx, 'nested', [{ kind: 'tenant.updated', data: { n: 1 } }]);
        // Another transaction of this process appends and waits for the head row we hold.
        waiting = knex.transaction((other) =>
          ledger.appendIn(other, 'nested', [{ kind: 'tenant.updated', data: { n: 3 } }]),
        );
        await new Promise((r) => setTimeout(r, 100));
        // A savepoint of ours appends again: on the head we hold, not behind the one waiting for it.
        await trx.transaction((inner) =>
          ledger.appendIn(inner, 'nested', [{ kind: 'tenant.updated', data: { n: 2 } }]),
        );
      });
      const settled = await Promise.race([
        outer.then(() => waiting).then(() => 'committed'),
        new Promise((r) => setTimeout(() => r('deadlocked'), 5000)),
      ]);
      expect(settled).toBe('committed');
      const bundle = await verifiedBundle(knex, 'nested');
      expect(bundle.receipts.map((r) => r.payload.n)).toEqual([1, 2, 3]);
    },
  );

  it('lets a transaction append while an autocommitted append waits for a connection', async () => {
    // PGlite has one connection; on PostgreSQL a pool of one stands in for an exhausted pool. The
    // autocommitted append's turn comes first, but it needs the connection the transaction holds.
    const small = engine === 'postgres' ? await openPoolOfOne() : undefined;
    const database = small ?? db();
    try {
      const { ledger } = await createTestLedger(database, ['one-connection']);
      const knex = database.knex;
      await ledger.append('one-connection', { kind: 'tenant.updated', data: { n: 0 } });
      const both = Promise.all([
        ledger.append('one-connection', { kind: 'tenant.updated', data: { n: 1 } }),
        knex.transaction((trx) =>
          ledger.appendIn(trx, 'one-connection', [{ kind: 'tenant.updated', data: { n: 2 } }]),
        ),
      ]).then(() => 'committed');
      const settled = await Promise.race([
        both,
        new Promise((r) => setTimeout(() => r('deadlocked'), 5000)),
      ]);
      expect(settled).toBe('committed');
      const bundle = await verifiedBundle(knex, 'one-connection');
      expect(bundle.receipts.map((r) => r.payload.n).sort()).toEqual([0, 1, 2]);
    } finally {
      await small?.close();
    }
  });

  it('appends again after a savepoint that appended rolls back', async () => {
    const { ledger } = await createTestLedger(db(), ['savepoint']);
    const knex = db().knex;
    await ledger.append('savepoint', { kind: 'tenant.updated', data: { n: 0 } });
    const [outer] = await knex.transaction(async (trx) => {
      await trx
        .transaction(async (inner) => {
          await ledger.appendIn(inner, 'savepoint', [{ kind: 'tenant.updated', data: { n: 'x' } }]);
          throw new Error('the savepoint fails after its append');
        })
        .catch(() => {});
      return ledger.appendIn(trx, 'savepoint', [{ kind: 'tenant.updated', data: { n: 1 } }]);
    });
    expect(outer?.payload.seq).toBe(2);
    const bundle = await verifiedBundle(knex, 'savepoint');
    expect(bundle.receipts.map((r) => r.payload.n)).toEqual([0, 1]);
  });

  it('restores the head an outer transaction held when a nested savepoint rolls back', async () => {
    const { ledger } = await createTestLedger(db(), ['nested-rollback']);
    const knex = db().knex;
    const append = (trx: Knex.Transaction, n: number | string) =>
      ledger.appendIn(trx, 'nested-rollback', [{ kind: 'tenant.updated', data: { n } }]);
    await knex.transaction(async (trx) => {
      await append(trx, 1);
      await trx
        .transaction(async (s1) => {
          await append(s1, 'a');
          await s1.transaction((s2) => append(s2, 'b')); // released into s1
          throw new Error('s1 fails: both of its appends go');
        })
        .catch(() => {});
      await append(trx, 2);
    });
    const bundle = await verifiedBundle(knex, 'nested-rollback');
    expect(bundle.receipts.map((r) => r.payload.n)).toEqual([1, 2]);
  });

  it.skipIf(engine === 'pglite')(
    'fails appends whose statement may have committed, and never writes them twice',
    async () => {
      // The statement commits, then the connection drops before its answer: the ledger cannot
      // know. Written again one by one (as after a refused statement), they would be there twice.
      const url = new URL(databaseUrl as string);
      const proxy = await startLostAnswerProxy({ host: url.hostname, port: Number(url.port) });
      const schema = `test_${randomBytes(6).toString('hex')}`;
      await (await openDatabase({ databaseUrl, schema })).close();
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      const lossy = await openDatabase({ databaseUrl: url.href, schema, migrate: false });
      try {
        const { ledger } = await createTestLedger(lossy, ['lost']);
        await ledger.append('lost', { kind: 'tenant.updated', data: { n: 0 } });
        // Two appendWith calls in one statement, then two appends in one batch.
        proxy.arm('with head as');
        const together = await Promise.allSettled([
          ledger.appendWith('lost', [{ kind: 'tenant.updated', data: { n: 1 } }], []),
          ledger.appendWith('lost', [{ kind: 'tenant.updated', data: { n: 2 } }], []),
        ]);
        proxy.arm('with head as');
        const batched = await Promise.allSettled([
          ledger.append('lost', { kind: 'tenant.updated', data: { n: 3 } }),
          ledger.append('lost', { kind: 'tenant.updated', data: { n: 4 } }),
        ]);
        expect(proxy.dropped()).toBe(2);
        expect([...together, ...batched].map((r) => r.status)).toEqual([
          'rejected',
          'rejected',
          'rejected',
          'rejected',
        ]);
        // Committed once each, though their callers were told they failed; and the ledger goes on.
        const next = await ledger.append('lost', { kind: 'tenant.updated', data: { n: 5 } });
        expect(next.payload.seq).toBe(6);
        const bundle = await verifiedBundle(lossy.knex, 'lost');
        expect(bundle.receipts.map((r) => r.payload.n)).toEqual([0, 1, 2, 3, 4, 5]);
      } finally {
        await lossy.knex.raw('drop schema if exists ?? cascade', [schema]);
        await lossy.close();
        await proxy.close();
      }
    },
  );

  it.skipIf(engine === 'pglite')(
    'keeps 400 receipts from 40 overlapping transactions of one process in one chain',
    async () => {
      const { ledger } = await createTestLedger(db(), ['overlapping']);
      const knex = db().knex;
      await Promise.all(
        Array.from({ length: 40 }, (_, t) =>
          knex.transaction(async (trx) => {
            await trx.raw('select pg_sleep(?)', [(t % 5) / 1000]);
            const drafts = Array.from({ length: 10 }, (_, i) => ({
              kind: 'tenant.updated' as const,
              data: { t, i },
            }));
            await ledger.appendIn(trx, 'overlapping', drafts);
          }),
        ),
      );
      const bundle = await verifiedBundle(knex, 'overlapping');
      expect(bundle.receipts.map((r) => r.payload.seq)).toEqual(
        Array.from({ length: 400 }, (_, i) => i + 1),
      );
    },
  );
});

describeEngines('ledger appends with changes in one statement', ({ db }) => {
  const probe = async () => {
    await db().knex.raw(
      'create table if not exists append_probe (tenant_id text not null, n int primary key)',
    );
    return (n: number) => ({
      sql: 'insert into append_probe (tenant_id, n) select chained.tenant_id, ? from chained returning n',
      bindings: [n],
      returns: true,
    });
  };

  it('commits the receipts and the changes together and returns what the changes returned', async () => {
    const change = await probe();
    const { ledger } = await createTestLedger(db(), ['with-a']);
    const { receipts, returned } = await ledger.appendWith(
      'with-a',
      [
        { kind: 'tenant.updated', data: { n: 1 } },
        { kind: 'tenant.updated', data: { n: 2 } },
      ],
      [
        change(101),
        {
          sql: 'update tenants as t set name = ? from chained where t.id = chained.tenant_id',
          bindings: ['renamed'],
        },
      ],
    );
    expect(receipts.map((r) => r.payload.seq)).toEqual([1, 2]);
    expect(returned).toEqual([[{ n: 101 }]]);
    expect((await db().knex('tenants').where({ id: 'with-a' }).first())?.name).toBe('renamed');
    await verifiedBundle(db().knex, 'with-a');
  });

  it('makes the changes once when another writer moved the head first', async () => {
    const change = await probe();
    const one = await createTestLedger(db(), ['with-b']);
    const two = await createTestLedger(db(), ['with-b']);
    await one.ledger.append('with-b', { kind: 'tenant.updated', data: { by: 'one' } });
    await two.ledger.append('with-b', { kind: 'tenant.updated', data: { by: 'two' } });
    // `one` expects the head it left (seq 1): its statement finds seq 2 and writes nothing; the
    // append is sealed on the head it found and goes again, autocommitted, with no transaction.
    const {
      result: { receipts, returned },
      statements,
    } = await watchStatements(db().knex, () =>
      one.ledger.appendWith(
        'with-b',
        [{ kind: 'tenant.updated', data: { by: 'one', again: true } }],
        [change(202)],
      ),
    );
    expect(statements.filter(isChainStatement)).toHaveLength(2);
    expect(statements.filter((sql) => /^begin/i.test(sql))).toEqual([]);
    expect(receipts[0]?.payload.seq).toBe(3);
    expect(returned).toEqual([[{ n: 202 }]]);
    expect(await db().knex('append_probe').where({ tenant_id: 'with-b' })).toHaveLength(1);
    const bundle = await verifiedBundle(db().knex, 'with-b');
    expect(bundle.receipts.map((r) => r.payload.seq)).toEqual([1, 2, 3]);
  });

  it("reports a change's own foreign key violation as it is, not as a missing tenant", async () => {
    await db().knex.raw(
      'create table if not exists append_fk_probe (run_id text not null references runs (id))',
    );
    const { ledger } = await createTestLedger(db(), ['with-fk']);
    const orphan = {
      sql: "insert into append_fk_probe (run_id) select 'no-such-run' from chained",
      bindings: [],
    };
    await expect(
      ledger.appendWith('with-fk', [{ kind: 'tenant.updated' }], [orphan]),
    ).rejects.toMatchObject({ code: '23503', constraint: 'append_fk_probe_run_id_fkey' });
    expect(await db().knex('receipts').where({ tenant_id: 'with-fk' })).toHaveLength(0);
  });

  it('writes neither the receipts nor any change when one change fails, and goes on after', async () => {
    const change = await probe();
    const { ledger } = await createTestLedger(db(), ['with-c']);
    await ledger.appendWith('with-c', [{ kind: 'tenant.updated', data: { n: 1 } }], [change(301)]);
    await expect(
      ledger.appendWith(
        'with-c',
        [{ kind: 'tenant.updated', data: { n: 2 } }],
        [change(302), change(301)], // 301 again: a primary key violation
      ),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await db().knex('append_probe').where({ tenant_id: 'with-c' })).toHaveLength(1);
    const next = await ledger.appendWith(
      'with-c',
      [{ kind: 'tenant.updated', data: { n: 3 } }],
      [],
    );
    expect(next.receipts[0]?.payload.seq).toBe(2);
    const bundle = await verifiedBundle(db().knex, 'with-c');
    expect(bundle.receipts.map((r) => r.payload.n)).toEqual([1, 3]);
  });

  it('keeps the chain whole with many concurrent appends with changes', async () => {
    const change = await probe();
    const { ledger } = await createTestLedger(db(), ['with-d']);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ledger.appendWith('with-d', [{ kind: 'tenant.updated', data: { i } }], [change(400 + i)]),
      ),
    );
    expect(await db().knex('append_probe').where({ tenant_id: 'with-d' })).toHaveLength(40);
    const bundle = await verifiedBundle(db().knex, 'with-d');
    expect(bundle.receipts).toHaveLength(40);
  });

  /** Counts the chain statements issued while `work` runs. */
  const chainStatements = async (work: () => Promise<unknown>) =>
    (await watchStatements(db().knex, work)).statements.filter(isChainStatement).length;

  it('writes appends that wait for the turn together in one statement, each getting its own', async () => {
    const change = await probe();
    const { ledger } = await createTestLedger(db(), ['with-e']);
    let results: Awaited<ReturnType<typeof ledger.appendWith>>[] = [];
    const statements = await chainStatements(async () => {
      results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          ledger.appendWith(
            'with-e',
            [
              { kind: 'tenant.updated', data: { i, part: 1 } },
              { kind: 'tenant.updated', data: { i, part: 2 } },
            ],
            [change(500 + i)],
          ),
        ),
      );
    });
    expect(statements).toBeLessThan(30);
    for (const [i, r] of results.entries()) {
      expect(r.receipts.map((x) => x.payload.i)).toEqual([i, i]);
      expect(r.receipts[1]?.payload.prev).toBe(r.receipts[0]?.digest);
      expect(r.returned).toEqual([[{ n: 500 + i }]]);
    }
    const bundle = await verifiedBundle(db().knex, 'with-e');
    expect(bundle.receipts.map((r) => [r.payload.i, r.payload.part])).toEqual(
      Array.from({ length: 30 }, (_, i) => [
        [i, 1],
        [i, 2],
      ]).flat(),
    );
  });

  it('never writes two appends touching one row in one statement', async () => {
    const { ledger } = await createTestLedger(db(), ['with-f']);
    const rename = (name: string) => ({
      sql: 'update tenants as t set name = t.name || ? from chained where t.id = chained.tenant_id',
      bindings: [name],
    });
    await db().knex('tenants').where({ id: 'with-f' }).update({ name: '' });
    const statements = await chainStatements(() =>
      Promise.all(
        ['a', 'b', 'c', 'd'].map((name) =>
          ledger.appendWith(
            'with-f',
            [{ kind: 'tenant.updated', data: { name } }],
            [rename(name)],
            {
              touches: ['tenant:with-f'],
            },
          ),
        ),
      ),
    );
    // Each change saw the one before it: in one statement, only one of them would have been made.
    expect((await db().knex('tenants').where({ id: 'with-f' }).first())?.name).toBe('abcd');
    expect(statements).toBe(4);
  });

  it('fails only the append whose change fails when appends share a statement', async () => {
    const change = await probe();
    const { ledger } = await createTestLedger(db(), ['with-g']);
    await ledger.appendWith('with-g', [{ kind: 'tenant.updated', data: { n: 0 } }], [change(600)]);
    const settled = await Promise.allSettled(
      [601, 602, 600, 603].map((n) =>
        ledger.appendWith('with-g', [{ kind: 'tenant.updated', data: { n } }], [change(n)]),
      ),
    );
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const rows = await db().knex('append_probe').where({ tenant_id: 'with-g' }).orderBy('n');
    expect(rows.map((r: { n: number }) => r.n)).toEqual([600, 601, 602, 603]);
    const bundle = await verifiedBundle(db().knex, 'with-g');
    expect(bundle.receipts.map((r) => r.payload.n)).toEqual([0, 601, 602, 603]);
  });
});
