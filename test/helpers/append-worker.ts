/**
 * Test worker: a separate process with its own ledger and signing key that appends receipts to one
 * tenant on PostgreSQL. Run with `node --import tsx test/helpers/append-worker.ts --tenant t
 * --receipts 500 --callers 10` and DATABASE_URL + WARDEN_TEST_SCHEMA in the environment. It prints
 * `ready` once connected, waits for `go` on stdin (so that several workers start together), then
 * prints one JSON line `{"keyId": …, "seqs": [...]}` and exits 0.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createSigner, generateSigningKey } from '../../src/ledger/ed25519.js';
import { createLedger } from '../../src/ledger/ledger.js';
import { openDatabase } from '../../src/storage/database.js';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    receipts: { type: 'string', default: '500' },
    callers: { type: 'string', default: '10' },
  },
});
const databaseUrl = process.env.DATABASE_URL;
const schema = process.env.WARDEN_TEST_SCHEMA;
const tenant = values.tenant;
const receipts = Number(values.receipts);
const callers = Number(values.callers);
if (!databaseUrl || !schema || !tenant || receipts % callers !== 0) {
  process.stderr.write(
    'usage: DATABASE_URL, WARDEN_TEST_SCHEMA, --tenant; receipts % callers = 0\n',
  );
  process.exit(2);
}

const db = await openDatabase({ databaseUrl, schema, migrate: false, poolMax: callers });
try {
  const signer = createSigner(generateSigningKey());
  const ledger = await createLedger({ knex: db.knex, signer });
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  if (line !== 'go') throw new Error(`expected "go", got ${JSON.stringify(line)}`);

  const seqs: number[] = [];
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < receipts / callers; i++) {
        const r = await ledger.append(tenant, {
          kind: 'tenant.updated',
          data: { pid: process.pid, caller, i },
        });
        seqs.push(r.payload.seq);
      }
    }),
  );
  await ledger.drain();
  process.stdout.write(`${JSON.stringify({ keyId: signer.keyId, seqs })}\n`);
} finally {
  await db.close();
}
