/**
 * The Trust Report model: everything one tenant's weekly report states, validated before rendering.
 * Counts are whole numbers, shares are fractions in [0, 1], instants are ISO 8601 with an offset,
 * days are `YYYY-MM-DD` (UTC). `null` means "no data this week", which the report says in words.
 */
import { z } from 'zod';
import { tiers, tokenScopes } from '../config-tenant.js';
import { isoWeekRange } from './iso-week.js';

const count = z.int().min(0);
const share = z.number().min(0).max(1);
const minutes = z.number().min(0);
const instant = z.iso.datetime({ offset: true });
const day = z.iso.date();
const name = z.string().min(1).max(200);
const receiptId = z.string().min(1).max(200);

const mttmRow = z.object({
  playbook: name,
  runs: count,
  meanMinutes: minutes,
  medianMinutes: minutes,
  /** Time to mitigate before automation (the tenant's declared baseline); null when none declared. */
  baselineMinutes: minutes.nullable(),
});

const incident = z.object({
  alertname: name,
  count: count,
  firstAt: instant,
  mitigated: z.boolean(),
});

const privilegedAction = z.object({
  at: instant,
  playbook: name,
  step: name,
  /** Who asked for it (a chat identity or `trigger:<source>`); null when withheld by disclosure. */
  requestedBy: name.nullable(),
  approvers: z.array(name),
  /** Two distinct approvers, neither of them the requester. */
  dualControl: z.boolean(),
  receiptId,
});

const retentionManifest = z.object({
  manifestId: z.string().min(1),
  at: instant,
  /** What was purged, e.g. `trigger payloads older than 90 days`. */
  scope: name,
  items: count,
  /** SHA-256 (hex) of the signed manifest. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  receiptId,
});

const consistencyProof = z.object({
  /** Tree size of the previous week's checkpoint. */
  fromSize: count,
  toSize: count,
  /** The previous week's checkpoint note, as its reader holds it; null when there was none. */
  previousCheckpoint: z.string().nullable(),
  /** RFC 9162 consistency proof hashes, base64. */
  hashes: z.array(z.string()),
});

export const trustReportSchema = z
  .object({
    schemaVersion: z.literal(1),
    tenant: z.object({ id: name, name: name, tier: z.enum(tiers) }),
    week: z.object({ iso: z.string().regex(/^\d{4}-W\d{2}$/), start: day, end: day }),
    generatedAt: instant,
    slo: z.object({
      alertsFired: count,
      alertsResolved: count,
      mttm: z.array(mttmRow),
      topIncidents: z.array(incident),
    }),
    coverage: z.object({
      /** Routine events: firing alerts, events and schedule ticks received in the week, matched or not. */
      routineEvents: count,
      /** Of those, resolved by playbooks without a human acting. */
      autoResolved: count,
      /** autoResolved / routineEvents; null when there were no routine events. */
      share: share.nullable(),
      goal: share.default(0.6),
    }),
    privileged: z.object({
      actions: z.array(privilegedAction),
      adherence: z.object({ actions: count, dualControlled: count, share: share.nullable() }),
    }),
    keys: z.object({
      keyId: name,
      algorithm: name.default('Ed25519'),
      rotations: count,
      signatures: count,
    }),
    /** Empty until retention and purge land: the report then says "none this week". */
    retention: z.object({ manifests: z.array(retentionManifest) }),
    anchoring: z.object({
      checkpoints: count,
      treeSize: count,
      proofsServed: count,
      /** Worst delay between a receipt and the checkpoint covering it; null when nothing anchored. */
      lagSeconds: z.number().min(0).nullable(),
      /** This week's last checkpoint (C2SP signed note text). */
      checkpoint: z.string().nullable(),
      consistency: consistencyProof.nullable(),
    }),
    isolation: z.object({
      checks: z.array(z.object({ name, passed: z.boolean(), detail: z.string().nullable() })),
      tokens: z.array(z.object({ scope: z.enum(tokenScopes), count })),
    }),
    guardrails: z.object({
      budgetDenials: count,
      byReason: z.array(z.object({ reason: name, count })),
      autoDisables: z.array(z.object({ at: instant, playbook: name, reason: name, receiptId })),
    }),
    timeSaved: z.object({
      minutes,
      byPlaybook: z.array(z.object({ playbook: name, runs: count, minutes })),
    }),
    runsByDay: z
      .array(z.object({ day, succeeded: count, failed: count, denied: count, awaiting: count }))
      .max(7),
    disclosure: z.object({
      /** Who the report was prepared for, e.g. `security-leadership`. */
      audience: name,
      /** Categories shown, e.g. `approver identities`; and those withheld for this audience. */
      disclosed: z.array(name),
      withheld: z.array(name).default([]),
    }),
  })
  .superRefine((report, ctx) => {
    const range = isoWeekRange(report.week.iso);
    if (!range || range.start !== report.week.start || range.end !== report.week.end) {
      ctx.addIssue({
        code: 'custom',
        path: ['week'],
        message: `week ${report.week.iso} must span ${range ? `${range.start}..${range.end}` : 'a valid ISO week'}`,
      });
    }
    if (report.coverage.autoResolved > report.coverage.routineEvents) {
      ctx.addIssue({ code: 'custom', path: ['coverage'], message: 'autoResolved > routineEvents' });
    }
    const { adherence } = report.privileged;
    if (adherence.dualControlled > adherence.actions) {
      ctx.addIssue({ code: 'custom', path: ['privileged'], message: 'dualControlled > actions' });
    }
  });

/** A validated Trust Report (defaults applied). */
export type TrustReport = z.output<typeof trustReportSchema>;
/** What the SQL aggregation produces (defaults may be omitted). */
export type TrustReportInput = z.input<typeof trustReportSchema>;
