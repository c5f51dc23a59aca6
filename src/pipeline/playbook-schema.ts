/**
 * Playbook schema: the playbook file format of CONTRACT.md as a zod schema. The JSON Schema in
 * docs/playbook.schema.json is generated from it (`npm run schema`), so editors check the same rules.
 */
import { z } from 'zod';
import { validateCron } from '../triggers/schedules.js';
import { duration } from './duration.js';

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lowercase letters, digits and "-" (at most 63)');

/**
 * A label matcher value: `value` (equal), `!=value`, `=~regex`, `!~regex`. Regexes are anchored, as
 * in Alertmanager, and must compile.
 */
const matcher = z
  .string()
  .max(1024)
  .refine((v) => {
    if (!v.startsWith('=~') && !v.startsWith('!~')) return true;
    try {
      new RegExp(`^(?:${v.slice(2)})$`);
      return true;
    } catch {
      return false;
    }
  }, 'the regular expression after =~ or !~ does not compile');

const cronExpr = z
  .string()
  .max(128)
  .superRefine((expr, check) => {
    const problem = validateCron(expr);
    if (problem) check.addIssue({ code: 'custom', message: problem });
  });

export const triggerSpec = z.union([
  z.strictObject({
    alert: z.strictObject({
      source: z.enum(['alertmanager', 'grafana', 'pagerduty']).optional(),
      match: z.record(z.string().max(256), matcher).default({}),
    }),
  }),
  z.strictObject({ cron: cronExpr }),
  z.strictObject({
    event: z.strictObject({
      source: z.string().max(63),
      type: z.string().max(256).optional(),
    }),
  }),
]);

const stepRef = z.strictObject({
  uses: z.string().regex(/^[a-z][a-z0-9-]*\.[a-zA-Z][a-zA-Z0-9]*$/, 'expected plugin.step'),
  with: z.record(z.string(), z.unknown()).default({}),
});

export const stepSchema = stepRef.extend({
  id: name,
  rollback: stepRef.optional(),
  /** Simulation and guardrails treat an idempotent step as safe to retry after a crash. */
  idempotent: z.boolean().optional(),
});

export const playbookSchema = z.strictObject({
  apiVersion: z.literal('warden/v1'),
  kind: z.literal('Playbook'),
  metadata: z.strictObject({
    name,
    owner: z.string().max(256).optional(),
    description: z.string().max(4096).optional(),
  }),
  spec: z.strictObject({
    on: z.array(triggerSpec).min(1),
    environment: z.string().max(256).optional(),
    budgets: z
      .strictObject({
        actionsPerHour: z.number().int().positive().optional(),
        blastRadius: z.number().int().positive().optional(),
        costPerRun: z.number().nonnegative().optional(),
        allowedEnvironments: z.array(z.string().max(256)).optional(),
      })
      .default({}),
    autoDisable: z
      .strictObject({
        consecutiveFailures: z.number().int().positive().optional(),
        failureRate: z
          .strictObject({
            above: z.number().min(0).max(1),
            window: duration,
            minRuns: z.number().int().positive().default(1),
          })
          .optional(),
        denials: z
          .strictObject({ count: z.number().int().positive(), window: duration })
          .optional(),
        refireWithin: duration.optional(),
      })
      .default({}),
    approval: z
      .strictObject({
        approvers: z
          .array(
            z
              .string()
              .regex(/^(slack|teams|group|web):.+$/, 'expected slack:…, teams:…, group:… or web:…'),
          )
          .default([]),
        minApprovals: z.number().int().positive().default(1),
        expiresIn: duration.default(30 * 60_000),
        /** What the approver should check, shown first on the approval card. */
        nextSteps: z.array(z.string().max(500)).max(10).optional(),
      })
      .optional(),
    manualMinutes: z.number().nonnegative().default(0),
    steps: z
      .array(stepSchema)
      .min(1)
      .refine(
        (steps) => new Set(steps.map((s) => s.id)).size === steps.length,
        'step ids must be unique',
      ),
  }),
});

export type Playbook = z.output<typeof playbookSchema>;
