/** The ordered list of migrations; add each new file here. */
import type { Knex } from 'knex';
import * as foundation from './0001_foundation.js';

export const migrations: Record<string, Knex.Migration> = {
  '0001_foundation': foundation,
};
