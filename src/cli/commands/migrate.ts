/** `warden migrate`: applies pending migrations and lists them. */
import { Command } from 'commander';
import { openDatabase } from '../../storage/database.js';
import { migrate } from '../../storage/migrate.js';
import { configOf } from '../context.js';
import type { Io } from '../output.js';

export function migrateCommand(io: Io): Command {
  return new Command('migrate')
    .description('apply database migrations')
    .action(async (_o, cmd: Command) => {
      const config = configOf(cmd);
      const db = await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        migrate: false,
        purpose: 'warden migrate',
      });
      try {
        const applied = await migrate(db.knex, { serialise: db.engine === 'postgres' });
        io.out(applied.length === 0 ? 'Already up to date.' : `Applied: ${applied.join(', ')}`);
      } finally {
        await db.close();
      }
    });
}
