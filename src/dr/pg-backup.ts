/**
 * Pg-backup: the PostgreSQL adapter of the DR drill. `pg_dump --format=custom` inside an exported
 * snapshot (so the chains counted are exactly those dumped), restored by `pg_restore` into a scratch
 * database `warden_drill_<random>` on the same server, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { WardenError } from '../errors.js';
import { type Database, openDatabase } from '../storage/database.js';
import { type BackupEngine, type RestoredCopy, sourceChains } from './backup-engine.js';
import { runPgTool, withDatabase } from './pg-tools.js';

/**
 * @example
 * const engine = createPgBackup(db, config.databaseUrl);
 * const { chains } = await engine.backup('/tmp/warden.dump');
 */
export function createPgBackup(db: Database, databaseUrl: string): BackupEngine {
  return {
    async backup(file) {
      return db.knex.transaction(async (trx) => {
        await trx.raw('set transaction isolation level repeatable read, read only');
        const { rows } = await trx.raw<{ rows: Array<{ snapshot: string }> }>(
          'select pg_export_snapshot() as snapshot',
        );
        const chains = await sourceChains(async (sql) => (await trx.raw(sql)).rows);
        // pg_dump reads the snapshot this transaction exported; it must stay open until it is done.
        await runPgTool(
          'pg_dump',
          databaseUrl,
          ['--format=custom', `--file=${file}`, `--snapshot=${rows[0]?.snapshot}`],
          'internal',
        );
        return { chains };
      });
    },

    async restore(file) {
      const name = `warden_drill_${randomBytes(5).toString('hex')}`;
      const drop = () => db.knex.raw('drop database if exists ?? with (force)', [name]);
      await db.knex.raw('create database ??', [name]);
      let restored: Database;
      try {
        const url = withDatabase(databaseUrl, name);
        await runPgTool(
          'pg_restore',
          url,
          ['--exit-on-error', '--no-owner', '--no-acl', file],
          'invalid',
        );
        restored = await openDatabase({ databaseUrl: url, migrate: false, poolMax: 4 }).catch(
          (err: unknown) => {
            throw new WardenError(
              'invalid',
              `The restored ${name} does not open: ${(err as Error).message}`,
              {
                cause: err,
              },
            );
          },
        );
      } catch (err) {
        await drop().catch(() => {});
        throw err;
      }
      const copy: RestoredCopy = {
        db: restored,
        where: `database ${name}`,
        async discard() {
          await copy.db.close();
          await drop();
        },
      };
      return copy;
    },
  };
}
