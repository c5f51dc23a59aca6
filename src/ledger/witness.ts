/**
 * Witness: pushes each new signed checkpoint of a tenant's log to the outside witnesses the tenant
 * configured (`anchoring.witness`: a bucket or a Standard Webhooks endpoint), so the tenant holds
 * copies Warden cannot take back. A later checkpoint with a consistency proof from any earlier one
 * proves the log only grew, so a witness needs every checkpoint only in spirit: when checkpoints
 * come faster than a witness takes them, the newest one supersedes those still waiting. Transient
 * failures are retried with exponential back-off; pushes are logged, not receipted (a receipt per
 * push would itself grow the log and call for another checkpoint).
 */
import type { Logger } from 'pino';
import { sha256Of } from '../delivery/deliverable.js';
import type { Delivery, DeliveryTarget } from '../delivery/delivery.js';
import { isWardenError } from '../errors.js';
import type { StoredCheckpoint } from '../storage/merkle.js';

export interface WitnessDeps {
  /** The tenant's witness targets (none: nothing is pushed). */
  targets(tenant: string): readonly DeliveryTarget[];
  logger: Logger;
  /** Attempts per checkpoint and target. @defaultValue 5 */
  attempts?: number;
  /** First back-off; doubles each retry. @defaultValue 1000 */
  backoffMs?: number;
  /** Told each push's outcome (metrics, tests). */
  onPush?: (tenant: string, target: string, size: number, ok: boolean) => void;
}

export interface Witness {
  /** Queues the checkpoint for the tenant's witnesses; returns at once. */
  publish(tenant: string, checkpoint: StoredCheckpoint): void;
  /** Resolves when nothing is waiting or in flight. */
  drain(): Promise<void>;
}

/** The checkpoint as a delivery: the signed note, as text, named after the log size. */
export function checkpointDelivery(tenant: string, cp: StoredCheckpoint): Delivery {
  const body = Buffer.from(cp.note, 'utf8');
  return {
    id: `checkpoint_${tenant}_${cp.size}`,
    tenant,
    kind: 'checkpoint',
    name: `checkpoint-${String(cp.size).padStart(12, '0')}.txt`,
    contentType: 'text/plain; charset=utf-8',
    body,
    sha256: sha256Of(body),
    metadata: { 'tree-size': String(cp.size) },
  };
}

/**
 * @example
 * const witness = createWitness({ targets: (t) => witnessTargets.get(t) ?? [], logger });
 * createAnchoring({ …, onCheckpoint: (t, cp) => witness.publish(t, cp) });
 */
export function createWitness(deps: WitnessDeps): Witness {
  const attempts = deps.attempts ?? 5;
  const backoffMs = deps.backoffMs ?? 1000;
  const waiting = new Map<string, StoredCheckpoint>();
  const running = new Map<string, Promise<void>>();

  async function push(tenant: string, target: DeliveryTarget, cp: StoredCheckpoint) {
    const delivery = checkpointDelivery(tenant, cp);
    for (let attempt = 1; ; attempt++) {
      try {
        const { location } = await target.deliver(delivery);
        deps.logger.info({ tenant, size: cp.size, location }, 'checkpoint pushed to witness');
        return deps.onPush?.(tenant, target.describe(), cp.size, true);
      } catch (err) {
        const retryable = isWardenError(err) && err.retryable;
        const superseded = waiting.has(tenant);
        if (!retryable || attempt >= attempts || superseded) {
          deps.logger.warn(
            { tenant, size: cp.size, target: target.describe(), attempt, superseded, err },
            'checkpoint not pushed to witness',
          );
          return deps.onPush?.(tenant, target.describe(), cp.size, false);
        }
        await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
      }
    }
  }

  async function run(tenant: string) {
    for (let cp = waiting.get(tenant); cp; cp = waiting.get(tenant)) {
      waiting.delete(tenant);
      const current = cp;
      await Promise.all(deps.targets(tenant).map((t) => push(tenant, t, current)));
    }
    running.delete(tenant);
  }

  return {
    publish(tenant, checkpoint) {
      if (deps.targets(tenant).length === 0) return;
      const queued = waiting.get(tenant);
      if (!queued || queued.size < checkpoint.size) waiting.set(tenant, checkpoint);
      if (!running.has(tenant)) running.set(tenant, run(tenant));
    },
    async drain() {
      while (running.size > 0) await Promise.all(running.values());
    },
  };
}
