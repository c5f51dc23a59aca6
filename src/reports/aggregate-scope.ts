/**
 * Aggregate-scope: what every section query of a Trust Report shares — the tenant, its ISO week as a
 * half-open UTC range `[from, to)`, the reader — and the one way those queries reach the database.
 */
import type { Knex } from 'knex';

/**
 * Who reads the report. `customer` (the default) discloses nothing personal: approvers appear as a
 * count, people who started runs are withheld. `auditor` names them (from `approval_votes`, `runs`).
 */
export type DisclosureAudience = 'customer' | 'auditor';

export interface ReportScope {
  knex: Knex;
  tenant: string;
  /** Monday 00:00 UTC of the week (ISO 8601). */
  from: string;
  /** The next Monday 00:00 UTC: the end, exclusive. */
  to: string;
  audience: DisclosureAudience;
}

/** Runs one aggregate statement and returns its (bounded) rows. */
export async function select<T>(
  scope: ReportScope,
  sql: string,
  bindings: readonly Knex.RawBinding[],
): Promise<T[]> {
  const result = await scope.knex.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[]);
  return result.rows;
}

/** A count or sum as the drivers return it (bigint and numeric arrive as strings from `pg`). */
export const toCount = (value: unknown): number => Number(value ?? 0);

/** A timestamp as the drivers return it (Date or string) in ISO 8601 UTC. */
export const toInstant = (value: Date | string): string => new Date(value).toISOString();

/** Rounds to two decimals (minutes shown to the second are noise in a weekly report). */
export const round2 = (value: number): number => Math.round(value * 100) / 100;

/** The approval statuses, listed so the `(tenant_id, status, created_at)` index serves week ranges. */
export const ticketStatuses = `('pending', 'approved', 'rejected', 'expired')`;
