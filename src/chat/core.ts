/**
 * Chat core: what a verified chat identity may do — decide on an approval (the same rules as the
 * API: listed approvers directly or through a verified group, dual control, expiry, every click
 * receipted) and the `/playbook` commands. Run, disable, enable and kill need the identity to be
 * one of the tenant's `chat.operators`; list, simulate, status and approvals are open to the
 * tenant's workspace.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TenantConfig } from '../config.js';
import { isWardenError, WardenError } from '../errors.js';
import { decideApproval } from '../guardrails/approvals.js';
import type { Guard } from '../guardrails/decision.js';
import { setSwitch } from '../guardrails/kill-switch.js';
import { disablePlaybook, enablePlaybook } from '../guardrails/playbook-switch.js';
import type { Ledger } from '../ledger/ledger.js';
import type { JsonValue } from '../ledger/receipt.js';
import { dryRun } from '../pipeline/dry-run.js';
import { createRun } from '../pipeline/start-runs.js';
import type { StepCatalog } from '../pipeline/step-context.js';
import type { RunQueue } from '../queue/run-queue.js';
import { getApproval, listApprovals } from '../storage/approvals.js';
import { currentVersions, type PlaybookVersion } from '../storage/playbooks.js';
import { listRunRows } from '../storage/runs.js';
import type { ChatCore, CommandAnswer } from './core-port.js';
import type { ChatIdentity, Platform } from './port.js';
import { approvalView, runSummaryView, simulationView } from './view-builders.js';
import type { NoticeView } from './views.js';

export interface ChatCoreDeps {
  knex: Knex;
  ledger: Ledger;
  catalog: StepCatalog;
  tenants: readonly TenantConfig[];
  guard: Guard;
  queue: RunQueue;
  logger: Logger;
}

const usage = [
  'list — the playbooks',
  'simulate <name> [key=value…] — plan, decisions and budget use; touches nothing',
  'run <name> [key=value…] — run now (operators)',
  'status [run id] — the latest runs, or one',
  'approvals — what waits for a decision',
  'disable <name> | enable <name> — (operators)',
  'kill on|off — the tenant kill switch (operators)',
];

const notice = (
  title: string,
  lines: string[] = [],
  tone: NoticeView['tone'] = 'info',
  visibility: 'ephemeral' | 'in_channel' = 'ephemeral',
): CommandAnswer => ({ visibility, kind: 'notice', view: { title, lines, tone } });

/** `key=value` words as run parameters (values stay strings; the step schemas coerce). */
function paramsOf(words: string[]): Record<string, JsonValue> {
  const params: Record<string, JsonValue> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new WardenError('invalid', `"${w}" is not key=value.`);
    const key = w.slice(0, eq);
    if (key === '__proto__' || key === 'constructor' || key === 'prototype')
      throw new WardenError('invalid', `"${key}" cannot be a parameter name.`);
    params[key] = w.slice(eq + 1);
  }
  return params;
}

export function createChatCore(deps: ChatCoreDeps): ChatCore {
  const byWorkspace = new Map<string, string>();
  const claim = (workspace: string, tenant: string) => {
    const other = byWorkspace.get(workspace);
    if (other && other !== tenant) {
      throw new WardenError(
        'config_invalid',
        `Tenants ${other} and ${tenant} both claim the chat workspace ${workspace}. Fix: give each tenant its own Slack team / Teams tenant.`,
      );
    }
    byWorkspace.set(workspace, tenant);
  };
  for (const t of deps.tenants) {
    if (t.chat.slack) claim(`slack:${t.chat.slack.teamId}`, t.id);
    if (t.chat.teams) claim(`teams:${t.chat.teams.tenantId}`, t.id);
  }
  const configOf = (tenant: string) => deps.tenants.find((t) => t.id === tenant);

  async function playbook(tenant: string, name: string | undefined): Promise<PlaybookVersion> {
    if (!name) throw new WardenError('invalid', 'Name the playbook.');
    const v = (await currentVersions(deps.knex, tenant)).find((p) => p.name === name);
    if (!v) throw new WardenError('not_found', `No playbook named ${name} in this tenant.`);
    return v;
  }

  function requireOperator(tenant: string, identity: ChatIdentity, what: string): void {
    if (!configOf(tenant)?.chat.operators.includes(identity.actor)) {
      throw new WardenError(
        'forbidden',
        `${identity.actor} may not ${what}: only the tenant's chat.operators may.`,
      );
    }
  }

  const commands: Record<
    string,
    (tenant: string, identity: ChatIdentity, args: string[]) => Promise<CommandAnswer>
  > = {
    async list(tenant) {
      const versions = await currentVersions(deps.knex, tenant);
      return notice(
        `${versions.length} playbook(s)`,
        versions.map(
          (v) =>
            `${v.name} v${v.version}${v.disabled ? ' (disabled)' : ''} — ${v.definition.spec.steps.map((s) => s.uses).join(' → ')}`,
        ),
      );
    },
    async simulate(tenant, identity, [name, ...rest]) {
      const version = await playbook(tenant, name);
      const result = await dryRun({
        version,
        example: { params: paramsOf(rest) },
        catalog: deps.catalog,
        config: configOf(tenant),
        ledger: deps.ledger,
        logger: deps.logger,
        guard: deps.guard,
        initiator: identity.actor,
      });
      return { visibility: 'ephemeral', kind: 'simulation', view: simulationView(tenant, result) };
    },
    async run(tenant, identity, [name, ...rest]) {
      requireOperator(tenant, identity, 'run playbooks');
      const version = await playbook(tenant, name);
      if (version.disabled)
        throw new WardenError('conflict', `Playbook ${version.name} is disabled.`);
      const params = paramsOf(rest);
      const id = await deps.knex.transaction((trx) =>
        createRun(trx, version, null, params, identity.actor),
      );
      await deps.queue.enqueue(tenant, id);
      return notice(
        `Started ${version.name}`,
        [`run ${id}`, `by ${identity.actor}`],
        'success',
        'in_channel',
      );
    },
    async status(tenant, _identity, [runId]) {
      if (runId) {
        const view = await runSummaryView(deps.knex, tenant, runId);
        if (!view) throw new WardenError('not_found', `No run ${runId} in this tenant.`);
        return { visibility: 'ephemeral', kind: 'run', view };
      }
      const rows = await listRunRows(deps.knex, tenant, { limit: 10 });
      return notice(
        'Latest runs',
        rows.map((r) => `${r.id} ${r.playbook_name} ${r.status}`),
      );
    },
    async approvals(tenant) {
      const tickets = await listApprovals(deps.knex, tenant, { status: 'pending', limit: 10 });
      const views = await Promise.all(tickets.map((t) => approvalView(deps.knex, t)));
      return { visibility: 'ephemeral', kind: 'approvals', view: views };
    },
    async disable(tenant, identity, [name]) {
      requireOperator(tenant, identity, 'disable playbooks');
      const v = await playbook(tenant, name);
      const r = await disablePlaybook(deps, tenant, v.name, {
        actor: identity.actor,
        reason: `Disabled from ${identity.platform} by ${identity.actor}.`,
      });
      return notice(
        r.changed ? `Disabled ${v.name}` : `${v.name} was already disabled`,
        r.receiptId ? [`receipt ${r.receiptId}`] : [],
        'warning',
        'in_channel',
      );
    },
    async enable(tenant, identity, [name]) {
      requireOperator(tenant, identity, 'enable playbooks');
      const v = await playbook(tenant, name);
      const r = await enablePlaybook(deps, tenant, v.name, { actor: identity.actor });
      return notice(
        r.changed ? `Enabled ${v.name}` : `${v.name} was already enabled`,
        r.receiptId ? [`receipt ${r.receiptId}`] : [],
        'success',
        'in_channel',
      );
    },
    async kill(tenant, identity, [position]) {
      requireOperator(tenant, identity, 'use the kill switch');
      if (position !== 'on' && position !== 'off')
        throw new WardenError('invalid', 'Say "kill on" or "kill off".');
      const r = await setSwitch(deps, {
        scope: 'tenant',
        tenant,
        target: tenant,
        engaged: position === 'on',
        actor: identity.actor,
        reason: `from ${identity.platform}`,
      });
      return notice(
        `Tenant kill switch ${r.engaged ? 'ENGAGED: no step will run' : 'released'}`,
        r.changed ? r.receipts.map((id) => `receipt ${id}`) : ['(it already was)'],
        r.engaged ? 'warning' : 'success',
        'in_channel',
      );
    },
  };

  return {
    tenantFor(platform: Platform, workspace: string) {
      return byWorkspace.get(`${platform}:${workspace}`);
    },
    async decide(tenant, ticketId, decision, identity, groupsOf) {
      const ticket = await getApproval(deps.knex, tenant, ticketId);
      const entries = ticket?.approvers.filter((a) => a.startsWith('group:')) ?? [];
      const groups = entries.length > 0 ? await groupsOf(entries) : [];
      const updated = await decideApproval(
        { ...deps, enqueue: (t, id) => deps.queue.enqueue(t, id) },
        tenant,
        ticketId,
        {
          decision,
          actor: identity.actor,
          via: identity.platform,
          groups,
          mayApproveUnlisted: configOf(tenant)?.chat.operators.includes(identity.actor) ?? false,
        },
      );
      return approvalView(deps.knex, updated);
    },
    async command(tenant, identity, text) {
      const [word = 'help', ...args] = text.trim().split(/\s+/).filter(Boolean);
      const handler = Object.hasOwn(commands, word) ? commands[word] : undefined;
      if (!handler) return notice('Warden /playbook commands', usage);
      try {
        return await handler(tenant, identity, args);
      } catch (err) {
        if (!isWardenError(err)) throw err;
        return notice(err.message, [], 'error');
      }
    },
  };
}
