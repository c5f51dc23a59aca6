import { describe, expect, it } from 'vitest';
import { WardenError } from '../errors.js';
import { isMissingTenant, refusedByDatabase } from './database-errors.js';
import { createGroupCommit } from './group-commit.js';

/** What PostgreSQL (and PGlite) reject a statement with. */
const refusal = (code: string, constraint?: string) =>
  Object.assign(new Error(`refused (${code})`), { code, severity: 'ERROR', constraint });

const lostConnection = () => new Error('Connection terminated unexpectedly');

describe('database errors', () => {
  it('tells a refusal (nothing committed) from a failure whose outcome is unknown', () => {
    expect(refusedByDatabase(refusal('23505'))).toBe(true);
    expect(
      refusedByDatabase(new WardenError('not_ready', 'wrapped', { cause: refusal('40P01') })),
    ).toBe(true);
    expect(refusedByDatabase(lostConnection())).toBe(false);
    expect(refusedByDatabase(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(
      false,
    );
    expect(refusedByDatabase(undefined)).toBe(false);
  });

  it("says a tenant is missing only for a tenant's foreign key", () => {
    expect(isMissingTenant(refusal('23503', 'ledger_heads_tenant_id_foreign'))).toBe(true);
    expect(isMissingTenant(refusal('23503', 'runs_playbook_version_id_foreign'))).toBe(false);
    expect(isMissingTenant(refusal('23505', 'receipts_tenant_id_foreign'))).toBe(false);
  });
});

describe('group commit', () => {
  it('retries a refused batch item by item, so only the bad item fails', async () => {
    const calls: number[][] = [];
    const writer = createGroupCommit<number, number>({
      async commit(_key, items) {
        calls.push(items);
        if (items.includes(2)) throw refusal('23514');
        return items.map((n) => n * 10);
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => writer.submit('t', n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // The first goes at once; the two that arrived meanwhile go together, then one by one.
    expect(calls).toEqual([[1], [2, 3], [2], [3]]);
  });

  it('fails a batch whose outcome is unknown as a whole, without committing it again', async () => {
    const calls: number[][] = [];
    const writer = createGroupCommit<number, number>({
      async commit(_key, items) {
        calls.push(items);
        throw lostConnection();
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => writer.submit('t', n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(calls).toEqual([[1], [2, 3]]);
  });

  it('keeps items that arrive while a batch commits for the next, and overlaps only full batches', async () => {
    const started: number[][] = [];
    const finish: Array<() => void> = [];
    const writer = createGroupCommit<number, number>({
      concurrency: 2,
      maxWeight: 2,
      async commit(_key, items) {
        started.push(items);
        await new Promise<void>((r) => finish.push(r));
        return items;
      },
    });
    const tick = () => new Promise((r) => setImmediate(r));
    const first = writer.submit('t', 1);
    await tick();
    const second = writer.submit('t', 2);
    await tick();
    expect(started).toEqual([[1]]); // 2 waits for the batch under way
    const more = [3, 4, 5].map((n) => writer.submit('t', n));
    for (const f of finish.splice(0)) f();
    await first;
    await tick();
    expect(started).toEqual([[1], [2, 3], [4, 5]]); // more than a batch waiting: two at once
    for (const f of finish.splice(0)) f();
    expect(await Promise.all([second, ...more])).toEqual([2, 3, 4, 5]);
    await writer.drain();
  });
});
