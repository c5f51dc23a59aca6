/**
 * Fault: a delivery target is down for a while. A Trust Report goes to a tenant's Standard Webhooks
 * receiver that first refuses connections (its port is closed), then answers 503 once, then takes
 * it. Two outbox replicas share the PostgreSQL database and race for the delivery, as two Warden
 * processes would. The delivery is retried with back-off and delivered exactly once — one
 * `webhook-id`, processed once — with a `delivery.attempted` receipt per attempt and one
 * `delivery.finished`.
 */
import { it } from 'vitest';
import { deliveriesOf } from '../../src/storage/reports.js';
import { faultSeconds } from '../helpers/fault-load.js';
import { openDeliveryRig } from '../helpers/fault-outbox.js';
import { waitFor } from '../helpers/fault-services.js';
import { chainVerifies, printFault } from '../helpers/fault-tally.js';

interface Attempted {
  delivery: string;
  outcome: string;
  error: string | null;
  keyId: string;
}

export function deliveryTargetDown(): void {
  it.concurrent('delivery-target-down: retries while the receiver is down and delivers exactly once', async ({
    expect,
    onTestFinished,
  }) => {
    const rig = await openDeliveryRig();
    onTestFinished(() => rig.close());
    const { knex, tenant, receiver, proxy } = rig;
    const [a, b] = rig.replicas;
    const refusingMs = (faultSeconds() * 1000) / 6;
    const attempted = async (): Promise<Attempted[]> =>
      (
        await knex('receipts')
          .where({ tenant_id: tenant, kind: 'delivery.attempted' })
          .orderBy('seq')
      ).map((r: { body: string; key_id: string }) => ({ ...JSON.parse(r.body), keyId: r.key_id }));
    const refusals = (tries: Attempted[]) =>
      tries.filter((t) => t.error?.includes('ECONNREFUSED')).length;

    await proxy.down();
    const made = await rig.makeReport('2026-W47');
    const [row] = await deliveriesOf(knex, tenant, made.report.id);
    if (!row) throw new Error('no delivery queued');
    const downSince = Date.now();
    for (const r of rig.replicas) r.outbox.start();
    // Connection refused for a while (at least two attempts), then 503 once, then up.
    await waitFor(
      'attempts refused while the receiver is down',
      async () => refusals(await attempted()) >= 2 && Date.now() - downSince >= refusingMs,
      60_000,
    );
    receiver.behave({ status: 503 }, 1);
    await proxy.up();
    await waitFor(
      'the report to be delivered',
      async () => (await deliveriesOf(knex, tenant, made.report.id))[0]?.status === 'delivered',
      60_000,
    );
    const deliveredAfterMs = Date.now() - downSince;
    // Both replicas sweep once more: nothing is left to send.
    await Promise.all([a.outbox.work(), b.outbox.work()]);

    const tries = (await attempted()).filter((t) => t.delivery === row.id);
    const finished = (
      await knex('receipts').where({ tenant_id: tenant, kind: 'delivery.finished' })
    ).map((r: { body: string }) => JSON.parse(r.body) as { outcome: string; delivery: string });
    const reached = receiver.attempts.filter((t) => t.headers['webhook-id'] === row.id);
    const accepted = reached.filter((t) => t.status >= 200 && t.status < 300);
    const [final] = await deliveriesOf(knex, tenant, made.report.id);
    printFault('delivery-target-down', {
      attempts: tries.length,
      refused: refusals(tries),
      unavailable503: reached.filter((t) => t.status === 503).length,
      delivered: accepted.length,
      processed: receiver.processed.size,
      duplicates: Math.max(0, accepted.length - 1),
      finished: finished.length,
      byReplicaA: tries.filter((t) => t.keyId === a.keyId).length,
      byReplicaB: tries.filter((t) => t.keyId === b.keyId).length,
      refusingMs: Math.round(refusingMs),
      deliveredAfterMs,
    });

    expect(final).toMatchObject({ status: 'delivered', attempts: tries.length });
    expect(refusals(tries)).toBeGreaterThanOrEqual(2);
    expect(tries.map((t) => t.outcome)).toEqual([
      ...Array(tries.length - 1).fill('retrying'),
      'delivered',
    ]);
    expect(reached.map((t) => t.status)).toEqual([503, 204]);
    expect(accepted).toHaveLength(1);
    expect([...receiver.processed.keys()]).toEqual([row.id]);
    expect(finished).toEqual([expect.objectContaining({ delivery: row.id, outcome: 'delivered' })]);
    const event = receiver.processed.get(row.id) as { data: { sha256: string } };
    expect(event.data.sha256).toBe(made.report.sha256);
    expect(await chainVerifies(knex, tenant)).toBe(true);
  }, 180_000);
}
