import { describe, expect, it } from 'vitest';
import { splitPassword, withDatabase } from './pg-tools.js';

describe('pg-tools', () => {
  it('moves the password from the URL to PGPASSWORD, keeping user, host and parameters', () => {
    const { url, env } = splitPassword(
      'postgres://warden:s%40cret@db.internal:5433/prod?sslmode=require',
    );
    expect(url).toBe('postgres://warden@db.internal:5433/prod?sslmode=require');
    expect(env.PGPASSWORD).toBe('s@cret');
  });

  it('leaves a URL without a password, or a key=value conninfo, as it is', () => {
    expect(splitPassword('postgres://postgres@127.0.0.1:5432/test').url).toBe(
      'postgres://postgres@127.0.0.1:5432/test',
    );
    expect(splitPassword('host=db dbname=prod').url).toBe('host=db dbname=prod');
  });

  it('names another database on the same server', () => {
    expect(withDatabase('postgres://u@h:5432/prod?sslmode=require', 'warden_drill_ab12')).toBe(
      'postgres://u@h:5432/warden_drill_ab12?sslmode=require',
    );
  });
});
