/**
 * Cron: a schedule tick becomes a trigger like any other — stored with its receipt, deduplicated on
 * (playbook, pattern, tick time), so a tick fired twice (two replicas, a Redis failover) counts once.
 */
import { createHash } from 'node:crypto';
import { canonicalBytes } from '../ledger/canonical-json.js';
import type { LoadedPlaybook } from '../pipeline/playbook-files.js';
import type { Ingest } from './ingest.js';
import { cronDedupKey, type FireHandler, type Schedule, scheduleId } from './schedules.js';
import type { TriggerDraft } from './trigger-event.js';

export function cronTrigger(schedule: Schedule, scheduledAt: Date): TriggerDraft {
  return {
    source: 'cron',
    kind: 'cron',
    status: 'fired',
    fingerprint: scheduleId(schedule),
    dedupKey: cronDedupKey(schedule, scheduledAt),
    labels: { playbook: schedule.playbook, cron: schedule.cron },
    annotations: {},
    startsAt: scheduledAt.toISOString(),
    endsAt: null,
    eventType: null,
    data: null,
    links: {},
  };
}

/** The fire handler every scheduler adapter calls: the tick goes through ingest. */
export function createCronFire(ingest: Ingest, now: () => Date = () => new Date()): FireHandler {
  return async (schedule, scheduledAt) => {
    const draft = cronTrigger(schedule, scheduledAt);
    const tick = canonicalBytes({ schedule: scheduleId(schedule), scheduledAt: draft.startsAt });
    await ingest.accept(
      schedule.tenant,
      {
        bodyDigest: `sha256:${createHash('sha256').update(tick).digest('hex')}`,
        receivedAt: now(),
        meta: { schedule: scheduleId(schedule) },
      },
      [draft],
    );
  };
}

/** Every `cron:` entry of every tenant's playbooks. */
export function schedulesOf(playbooks: ReadonlyMap<string, LoadedPlaybook[]>): Schedule[] {
  return [...playbooks].flatMap(([tenant, list]) =>
    list.flatMap(({ playbook }) =>
      playbook.spec.on.flatMap((on) =>
        'cron' in on ? [{ tenant, playbook: playbook.metadata.name, cron: on.cron }] : [],
      ),
    ),
  );
}
