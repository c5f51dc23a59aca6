/**
 * Pglite-backup: the embedded adapter of the DR drill. While holding PGlite's only connection (so no
 * query runs in between) it checkpoints, reads the chains and dumps the data directory as a gzipped
 * tarball (`dumpDataDir`); the restore unpacks it into a directory of its own (`loadDataDir`) and
 * opens that like any embedded database.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { WardenError } from '../errors.js';
import { type Database, openDatabase } from '../storage/database.js';
import { type BackupEngine, sourceChains } from './backup-engine.js';

/** What knex-pglite hands out as its (only) connection: the PGlite instance. */
interface PGliteConnection {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  dumpDataDir(compression: 'gzip'): Promise<Blob>;
}

interface ConnectionPool {
  acquireConnection(): Promise<PGliteConnection>;
  releaseConnection(connection: PGliteConnection): Promise<unknown>;
}

/**
 * @example
 * const engine = createPgliteBackup(db);
 * const restored = await engine.restore('/tmp/drill/backup.tar.gz', '/tmp/drill');
 */
export function createPgliteBackup(db: Database): BackupEngine {
  return {
    async backup(file) {
      const pool = db.knex.client as ConnectionPool;
      const pg = await pool.acquireConnection();
      try {
        await pg.query('checkpoint'); // the data files hold everything: the copy opens without replay
        const chains = await sourceChains(async (sql) => (await pg.query(sql)).rows);
        const tarball = await pg.dumpDataDir('gzip');
        await writeFile(file, Buffer.from(await tarball.arrayBuffer()));
        return { chains };
      } finally {
        await pool.releaseConnection(pg);
      }
    },

    async restore(file, workDir) {
      const dir = join(workDir, 'restored');
      // Unpacked here rather than by PGlite, whose gzip stream leaves a stray rejection when cut short.
      const tar = await gunzipAsync(await readFile(file)).catch((err: unknown) => {
        throw new WardenError('invalid', `the backup is not a whole gzip file: ${messageOf(err)}`, {
          cause: err,
        });
      });
      await mkdir(dir, { recursive: true });
      try {
        const pg = new PGlite(join(dir, 'pgdata'), { loadDataDir: new Blob([tar]) });
        await pg.waitReady;
        await pg.close();
      } catch (err) {
        throw new WardenError('invalid', `PGlite cannot load the backup: ${messageOf(err)}`, {
          cause: err,
        });
      }
      let restored: Database;
      try {
        restored = await openDatabase({
          dataDir: dir,
          migrate: false,
          purpose: 'warden dr-drill (restored copy)',
        });
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw new WardenError('invalid', `The restored copy does not open: ${messageOf(err)}`, {
          cause: err,
        });
      }
      return {
        db: restored,
        where: dir,
        async discard() {
          await restored.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

const gunzipAsync = promisify(gunzip);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
