/**
 * Operations: what a Warden process does beside serving requests and running playbooks — anchoring
 * receipts and pushing checkpoints to witnesses, metrics, Trust Reports and their deliveries,
 * retention purges and internal alerts. Opened by the composition root, started by a worker,
 * told about chat once it is open, and closed in order.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Chat } from './chat/chat.js';
import type { Config } from './config.js';
import { createDeliveryTarget } from './delivery/delivery.js';
import { type Anchoring, anchoringEnabled, createAnchoring } from './ledger/anchor.js';
import type { Signer } from './ledger/ed25519.js';
import type { Ledger } from './ledger/ledger.js';
import { createWitness } from './ledger/witness.js';
import type { InternalAlertNotice } from './observability/internal-alert-notice.js';
import { createInternalAlerts } from './observability/internal-alerts.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createMetricsRecorder, manualMinutesFrom } from './observability/metrics-recorder.js';
import { openReporting, type Reporting } from './reports/reporting.js';
import { createRetentionJob } from './retention/schedule.js';
import { countUnfinishedRuns } from './storage/runs.js';

/** How often content past the tenants' retention policies is purged. */
const retentionEveryMs = 6 * 3_600_000;

/** How often the internal alert rules are evaluated. */
const internalAlertsEveryMs = 60_000;

export interface Operations {
  /** Appends receipts to the tenants' Merkle logs and signs checkpoints. */
  anchoring: Anchoring;
  metrics: Metrics;
  reporting: Reporting;
  /** Starts the periodic work: anchoring, report deliveries and schedule, alerts, purges. */
  start(): void;
  /** Chat, once open: report links and internal alert notices go there. */
  useChat(chat: Pick<Chat, 'postReportLink' | 'postNotice'>): void;
  close(): Promise<void>;
}

export function openOperations(deps: {
  config: Config;
  knex: Knex;
  ledger: Ledger;
  signer: Pick<Signer, 'publicKey' | 'sign'>;
  logger: Logger;
}): Operations {
  const { config, knex, ledger, logger } = deps;
  const tenants = new Map(config.tenants.map((t) => [t.id, t]));
  const witnessTargets = new Map(
    config.tenants.map((t) => [t.id, t.anchoring.witness.map((w) => createDeliveryTarget(w))]),
  );
  const witness = createWitness({ targets: (t) => witnessTargets.get(t) ?? [], logger });
  let metrics: Metrics | undefined;
  const anchoring = createAnchoring({
    knex,
    signer: deps.signer,
    origin: (tenant) => `${config.logOrigin}/${tenant}`,
    enabled: anchoringEnabled(knex, tenants),
    logger,
    onCheckpoint: (tenant, cp) => {
      metrics?.checkpointsSigned.inc({ tenant });
      witness.publish(tenant, cp);
    },
  });
  metrics = createMetrics({
    anchoringLag: () => anchoring.lag(),
    queueDepth: () => countUnfinishedRuns(knex),
  });
  ledger.subscribe(
    createMetricsRecorder(metrics, {
      manualMinutes: manualMinutesFrom(knex),
      onError: (err) => logger.warn({ err }, 'metrics recorder failed'),
    }),
  );
  const reporting = openReporting({ config, knex, ledger, logger, anchoring });
  const retention = createRetentionJob({ knex, ledger, logger, tenants: config.tenants });
  let postAlert: ((tenant: string, notice: InternalAlertNotice) => Promise<unknown>) | undefined;
  const internalAlerts = createInternalAlerts({
    knex,
    ledger,
    logger,
    anchoringLag: () => anchoring.lag(),
    notify: (tenant, notice) => postAlert?.(tenant, notice),
  });
  return {
    anchoring,
    metrics,
    reporting,
    start() {
      anchoring.start();
      reporting.start({ schedule: true });
      internalAlerts.start(internalAlertsEveryMs);
      retention.start(retentionEveryMs);
    },
    useChat(chat) {
      reporting.useChat(chat.postReportLink);
      postAlert = (tenant, notice) =>
        chat.postNotice(tenant, {
          title:
            notice.transition === 'fired'
              ? `Warden alert: ${notice.title}`
              : `Cleared: ${notice.title}`,
          lines: [notice.message, `Receipt ${notice.receiptId}`],
          tone: notice.transition === 'fired' ? 'warning' : 'success',
        });
    },
    async close() {
      await anchoring.stop();
      await reporting.close();
      await internalAlerts.stop();
      await retention.stop();
      await witness.drain();
      for (const t of [...witnessTargets.values()].flat()) t.close?.();
    },
  };
}
