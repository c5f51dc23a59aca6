/**
 * Playbook switch: disabling and enabling a playbook, each one transaction with its receipt
 * (`playbook.disabled` / `playbook.enabled`). A disabled playbook starts no runs; enabling it resets
 * the breakers, which count only runs created after the enable.
 */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue } from '../ledger/receipt.js';
import {
  markDisabled,
  markEnabled,
  playbookExists,
  type SwitchedVersion,
} from '../storage/playbook-state.js';
import type { BreakerTrip } from './breakers.js';

interface SwitchDeps {
  knex: Knex;
  ledger: Ledger;
}

interface SwitchResult {
  /** False when the playbook was already in that state: nothing was written, no receipt. */
  changed: boolean;
  receiptId?: string;
}

/** Longest reason a person may give (API and CLI). */
export const maxReasonLength = 1000;

async function switchPlaybook(
  deps: SwitchDeps,
  tenant: string,
  name: string,
  mark: (trx: Knex.Transaction) => Promise<SwitchedVersion | undefined>,
  receipt: (v: SwitchedVersion) => {
    kind: 'playbook.disabled' | 'playbook.enabled';
    data: Record<string, JsonValue>;
  },
): Promise<SwitchResult> {
  return deps.knex.transaction(async (trx) => {
    const switched = await mark(trx);
    if (!switched) {
      if (!(await playbookExists(trx, tenant, name))) {
        throw new WardenError('not_found', `No playbook named ${name} in tenant ${tenant}.`);
      }
      return { changed: false };
    }
    const [appended] = await deps.ledger.appendIn(trx, tenant, [receipt(switched)]);
    return { changed: true, receiptId: appended?.payload.id };
  });
}

/**
 * Disables a playbook: no new runs start until it is enabled. Idempotent: an already disabled
 * playbook is left as it is (`changed: false`, no receipt); of concurrent disables exactly one wins.
 * @example
 * await disablePlaybook(deps, 'acme', 'restart-ingest', { actor: 'api:oncall-bot', reason: 'flapping' });
 */
export function disablePlaybook(
  deps: SwitchDeps,
  tenant: string,
  name: string,
  why: { actor: string; reason: string; trip?: BreakerTrip },
): Promise<SwitchResult> {
  return switchPlaybook(
    deps,
    tenant,
    name,
    (trx) => markDisabled(trx, tenant, name, why.reason),
    (v) => ({
      kind: 'playbook.disabled',
      data: {
        playbook: name,
        version: v.version,
        digest: v.digest,
        actor: why.actor,
        reason: why.reason,
        ...(why.trip ? { rule: why.trip.rule, figures: why.trip.figures } : {}),
      },
    }),
  );
}

/**
 * Enables a disabled playbook; its breakers start clean (only runs created from now on count).
 * Idempotent like disablePlaybook.
 * @example
 * await enablePlaybook(deps, 'acme', 'restart-ingest', { actor: 'cli', reason: 'fixed upstream' });
 */
export function enablePlaybook(
  deps: SwitchDeps,
  tenant: string,
  name: string,
  why: { actor: string; reason?: string },
): Promise<SwitchResult> {
  return switchPlaybook(
    deps,
    tenant,
    name,
    (trx) => markEnabled(trx, tenant, name),
    (v) => ({
      kind: 'playbook.enabled',
      data: {
        playbook: name,
        version: v.version,
        digest: v.digest,
        actor: why.actor,
        reason: why.reason ?? null,
      },
    }),
  );
}
