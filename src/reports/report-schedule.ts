/**
 * Report schedule: every tenant with weekly reports (Enterprise unless `reports.enabled: false`) gets
 * last week's Trust Report made and delivered on its `reports.schedule` (cron, UTC; Mondays 06:00 by
 * default). Every replica runs the schedule; the database lets one of them make each week's report.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { isoWeekOf } from './iso-week.js';
import type { MadeReport, ReportRequest } from './trust-report.js';

export interface ReportSchedule {
  stop(): void;
}

/** Whether the tenant gets a weekly report. */
export const wantsWeeklyReport = (t: TenantConfig) => t.reports.enabled ?? t.tier === 'enterprise';

/** The ISO week before the one holding `now`: the week a Monday-morning report covers. */
export const previousWeek = (now: Date) => isoWeekOf(new Date(now.getTime() - 7 * 86_400_000));

/**
 * @example
 * const schedule = startReportSchedule({ tenants: config.tenants, make, logger });
 * schedule.stop(); // on shutdown
 */
export function startReportSchedule(deps: {
  tenants: readonly TenantConfig[];
  make(req: ReportRequest): Promise<MadeReport | undefined>;
  logger: Logger;
}): ReportSchedule {
  const jobs = deps.tenants.filter(wantsWeeklyReport).map(
    (t) =>
      new Cron(
        t.reports.schedule,
        { mode: '5-or-6-parts', timezone: 'UTC', protect: true },
        async () => {
          const week = previousWeek(new Date());
          try {
            const made = await deps.make({ tenant: t.id, week, origin: 'schedule', deliver: true });
            if (made)
              deps.logger.info(
                { tenant: t.id, week, report: made.report.id },
                'weekly report made',
              );
          } catch (err) {
            deps.logger.error({ err, tenant: t.id, week }, 'weekly report failed');
          }
        },
      ),
  );
  return {
    stop() {
      for (const job of jobs) job.stop();
    },
  };
}
