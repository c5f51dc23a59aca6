/**
 * Reporting: the Trust Report service as the process runs it — the warm PDF renderer (Chromium starts
 * on the first PDF), the tenants' delivery targets, the delivery outbox and the weekly schedule.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ReportLinkView } from '../chat/views.js';
import type { Config } from '../config.js';
import { createOutbox, type Outbox } from '../delivery/outbox.js';
import { createReportTargets } from '../delivery/report-targets.js';
import { WardenError } from '../errors.js';
import type { Anchoring } from '../ledger/anchor.js';
import type { Ledger } from '../ledger/ledger.js';
import type { PdfRenderer } from './pdf.js';
import { type ReportSchedule, startReportSchedule } from './report-schedule.js';
import { type MadeReport, makeTrustReport, type ReportRequest } from './trust-report.js';

export interface Reporting {
  make(req: ReportRequest): Promise<MadeReport | undefined>;
  /** The process's warm PDF renderer (Chromium starts on first use); undefined without Chromium. */
  pdf(): Promise<PdfRenderer | undefined>;
  outbox: Outbox;
  /** Chat, once it is open in this process, for the `chat` target. */
  useChat(post: (tenant: string, view: ReportLinkView) => Promise<unknown>): void;
  /** Starts the outbox sweep and, with `schedule`, the weekly reports. */
  start(opts: { schedule: boolean }): void;
  close(): Promise<void>;
}

export function openReporting(deps: {
  config: Pick<Config, 'tenants' | 'publicUrl' | 'chromiumPath'>;
  knex: Knex;
  ledger: Ledger;
  logger: Logger;
  anchoring?: Anchoring;
  /** Hooks the internal alert on a delivery that failed for good. */
  onDeliveryFailed?: (tenant: string, error: string) => void;
}): Reporting {
  const { config, knex, ledger, logger } = deps;
  let chat: ((tenant: string, view: ReportLinkView) => Promise<unknown>) | undefined;
  const targets = createReportTargets({
    knex,
    tenants: config.tenants,
    publicUrl: config.publicUrl,
    postReportLink: (tenant, view) => {
      if (!chat) {
        throw new WardenError('not_ready', 'Chat is not running in this process.', {
          retryable: true,
        });
      }
      return chat(tenant, view);
    },
  });
  const outbox = createOutbox({
    knex,
    ledger,
    logger,
    target: targets.target,
    hasAlternate: targets.hasAlternate,
    onFailed: (tenant, _d, error) => deps.onDeliveryFailed?.(tenant, error),
  });
  let pdf: Promise<PdfRenderer> | undefined;
  const renderer = () =>
    (pdf ??= import('./pdf.js').then((m) =>
      m.createPdfRenderer({ chromiumPath: config.chromiumPath }),
    ));
  const make = (req: ReportRequest) =>
    makeTrustReport(
      {
        knex,
        ledger,
        logger,
        tenants: config.tenants,
        publicUrl: config.publicUrl,
        outbox,
        targets,
        ...(deps.anchoring ? { anchoring: deps.anchoring } : {}),
        pdf: renderer,
      },
      req,
    );
  let schedule: ReportSchedule | undefined;
  return {
    make,
    async pdf() {
      const { findChromium } = await import('./pdf.js');
      try {
        findChromium(config.chromiumPath);
      } catch {
        return undefined;
      }
      return renderer();
    },
    outbox,
    useChat(post) {
      chat = post;
    },
    start(opts) {
      outbox.start();
      if (opts.schedule) {
        schedule ??= startReportSchedule({ tenants: config.tenants, make, logger });
      }
    },
    async close() {
      schedule?.stop();
      await outbox.stop();
      targets.close();
      await (await pdf)?.close();
    },
  };
}
