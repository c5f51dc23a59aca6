/**
 * Dry-run: `warden simulate` and `POST /playbooks/:name/simulate` — plans a playbook against an
 * example event without creating a run or touching anything, and receipts the simulation.
 */
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue } from '../ledger/receipt.js';
import type { PlaybookVersion } from '../storage/playbooks.js';
import type { TriggerEvent } from '../triggers/trigger-event.js';
import { playbookMatches } from './match.js';
import { runContext } from './run-context.js';
import { digestJson, simulateRun } from './simulate-run.js';
import type { StepCatalog } from './step-context.js';

/** The example event: an alert (labels…), a signed event (source, type, data) and/or parameters. */
export interface ExampleEvent {
  alert?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    source?: string;
  };
  event?: { source: string; type?: string; data?: JsonValue };
  params?: Record<string, JsonValue>;
}

export function exampleTrigger(tenant: string, example: ExampleEvent): TriggerEvent | null {
  const base = {
    id: 'simulation',
    tenant,
    fingerprint: null,
    dedupKey: 'simulation',
    startsAt: null,
    endsAt: null,
    links: {},
    receivedAt: new Date().toISOString(),
    bodyDigest: digestJson(example),
    resolves: null,
    receiptId: '',
  };
  if (example.alert) {
    const source = (example.alert.source ?? 'alertmanager') as TriggerEvent['source'];
    return {
      ...base,
      source,
      kind: 'alert',
      status: 'firing',
      labels: example.alert.labels ?? {},
      annotations: example.alert.annotations ?? {},
      eventType: null,
      data: null,
    };
  }
  if (example.event) {
    return {
      ...base,
      source: 'events',
      kind: 'event',
      status: 'received',
      labels: {
        source: example.event.source,
        ...(example.event.type ? { type: example.event.type } : {}),
      },
      annotations: {},
      eventType: example.event.type ?? null,
      data: example.event.data ?? null,
    };
  }
  return null;
}

export async function dryRun(opts: {
  version: PlaybookVersion;
  example: ExampleEvent;
  catalog: StepCatalog;
  config: TenantConfig | undefined;
  ledger: Ledger;
  logger: Logger;
}) {
  const { version } = opts;
  const trigger = exampleTrigger(version.tenant, opts.example);
  const context = runContext(
    trigger,
    { name: version.name, version: version.version },
    opts.example.params,
  );
  const sim = await simulateRun({
    playbook: version.definition,
    context,
    catalog: opts.catalog,
    tenant: version.tenant,
    config: opts.config,
    logger: opts.logger,
  });
  const playbook = { name: version.name, version: version.version, digest: version.digest };
  const wouldTrigger = trigger ? playbookMatches(version.definition, trigger) : null;
  const steps = sim.ok ? sim.steps.map(({ input: _input, ...p }) => p) : [];
  const receipt = await opts.ledger.append(version.tenant, {
    kind: 'run.simulated',
    data: {
      playbook: `${version.name}@${version.digest}`,
      version: version.version,
      dryRun: true,
      exampleDigest: digestJson(opts.example),
      outcome: sim.ok ? 'planned' : 'denied',
      steps: steps.map(({ effects: _e, ...p }) => p) as unknown as JsonValue,
      ...(sim.ok ? {} : { denied: { step: sim.step, reason: sim.reason, detail: sim.detail } }),
    },
  });
  return {
    playbook,
    wouldTrigger,
    outcome: sim.ok ? ('planned' as const) : ('denied' as const),
    steps,
    denied: sim.ok
      ? null
      : { step: sim.step, uses: sim.uses, reason: sim.reason, detail: sim.detail },
    receipt: receipt.payload.id,
  };
}
