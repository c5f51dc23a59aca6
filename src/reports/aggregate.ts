/**
 * Aggregate: fills the Trust Report model for one tenant and one ISO week from the database. Every
 * figure is computed by SQL aggregates scoped by `tenant_id`; only bounded results (totals, top-N
 * lists, per-day and per-playbook groups) reach JavaScript, never the week's rows. Each section's
 * definitions are documented where it is computed (aggregate-*.ts).
 */
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import { getTenant } from '../storage/tenants.js';
import { type AnchoringLag, anchoringSection } from './aggregate-anchoring.js';
import { guardrailsSection } from './aggregate-guardrails.js';
import { isolationSection } from './aggregate-isolation.js';
import { disclosureFor, privilegedSection } from './aggregate-privileged.js';
import { keysSection, scanWeekReceipts } from './aggregate-receipts.js';
import { coverageSection, runsByDaySection, timeSavedSection } from './aggregate-runs.js';
import type { DisclosureAudience, ReportScope } from './aggregate-scope.js';
import { sloSection } from './aggregate-slo.js';
import { isoWeekRange } from './iso-week.js';
import type { TrustReportInput } from './report-model.js';

export type { DisclosureAudience } from './aggregate-scope.js';

export interface AggregateInput {
  tenant: string;
  /** ISO week, `YYYY-Www`. */
  week: string;
  /** Stamped as `generatedAt`. @defaultValue new Date() */
  now?: Date;
  /** @defaultValue 'customer' */
  audience?: DisclosureAudience;
}

export interface AggregateDeps {
  /** The anchoring service, for the current anchoring lag; without it `lagSeconds` is null. */
  anchoring?: AnchoringLag;
}

const dayMs = 86_400_000;

/**
 * Aggregates a tenant's week into a Trust Report model (validate and render it with
 * `renderReportHtml`). Retention manifests are empty until retention lands ("none this week").
 * @throws WardenError `invalid` for a string that is not an ISO week, `not_found` for an unknown tenant.
 * @example
 * const report = await aggregateTrustReport(knex, { tenant: 'acme', week: '2026-W47' }, { anchoring });
 * const html = renderReportHtml(report);
 */
export async function aggregateTrustReport(
  knex: Knex,
  input: AggregateInput,
  deps: AggregateDeps = {},
): Promise<TrustReportInput> {
  const range = isoWeekRange(input.week);
  if (!range) {
    throw new WardenError(
      'invalid',
      `"${input.week}" is not an ISO week; expected YYYY-Www, e.g. 2026-W47.`,
    );
  }
  const tenant = await getTenant(knex, input.tenant);
  if (!tenant) throw new WardenError('not_found', `No tenant ${input.tenant}.`);
  const audience = input.audience ?? 'customer';
  const scope: ReportScope = {
    knex,
    tenant: tenant.id,
    from: `${range.start}T00:00:00.000Z`,
    to: new Date(Date.parse(range.end) + dayMs).toISOString(),
    audience,
  };
  // Sections run side by side (separate pool connections on PostgreSQL); the receipt pass first
  // feeds the sections that read the week's receipts by kind.
  const week = scanWeekReceipts(scope);
  const [slo, coverage, privileged, keys, anchoring, isolation, guardrails, timeSaved, runsByDay] =
    await Promise.all([
      sloSection(scope),
      coverageSection(scope),
      privilegedSection(scope),
      week.then((w) => keysSection(scope, w)),
      anchoringSection(scope, deps.anchoring),
      week.then((w) => isolationSection(scope, w)),
      week.then((w) => guardrailsSection(scope, w)),
      timeSavedSection(scope),
      runsByDaySection(scope),
    ]);
  return {
    schemaVersion: 1,
    tenant: { id: tenant.id, name: tenant.name, tier: tenant.tier },
    week: { iso: input.week, start: range.start, end: range.end },
    generatedAt: (input.now ?? new Date()).toISOString(),
    slo,
    coverage,
    privileged,
    keys,
    retention: { manifests: [] },
    anchoring,
    isolation,
    guardrails,
    timeSaved,
    runsByDay,
    disclosure: disclosureFor(audience),
  };
}
