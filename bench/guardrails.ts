/**
 * Guardrails benchmark: what one guardrail decision before a step costs, sequential, with a warm
 * policy engine — the Cedar policy alone (beside a raw cedar-wasm call on the same policies), the
 * whole chain for a playbook without budgets (beside a bare `select 1`) and with budgets (beside a
 * bare begin → advisory lock → insert → commit), on in-memory PGlite and on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Knex } from 'knex';
import pino from 'pino';
import { tenantSchema } from '../src/config-tenant.js';
import { environmentOf, principalOf } from '../src/guardrails/chain.js';
import type { GuardInput } from '../src/guardrails/decision.js';
import { openGuardrails } from '../src/guardrails/guardrails.js';
import type { PolicyRequest } from '../src/guardrails/policy.js';
import { buildSchema, checkPolicyFile } from '../src/guardrails/policy-set.js';
import { createSigner, generateSigningKey } from '../src/ledger/ed25519.js';
import { createLedger } from '../src/ledger/ledger.js';
import { parsePlaybook } from '../src/pipeline/playbook-files.js';
import { syncPlaybookVersions } from '../src/pipeline/playbook-versions.js';
import { runContext } from '../src/pipeline/run-context.js';
import { simulateRun } from '../src/pipeline/simulate-run.js';
import { plugins } from '../src/plugins/index.js';
import { validatePlugins } from '../src/plugins/registry.js';
import { definePlugin, defineStep, z } from '../src/sdk/index.js';
import { type Database, openDatabase } from '../src/storage/database.js';
import type { PlaybookVersion } from '../src/storage/playbooks.js';
import { createTenant } from '../src/tenancy/tenants.js';
import { openBenchSchema } from './bench-database.js';
import { type BenchRow, defineBenchmark } from './benchmark.js';
import { withDeadline } from './stats.js';

const warmup = 500;
const decisions = 5_000;
/** Measuring stops after this long for each side (so twice this, interleaved), even short of `decisions`. */
const budgetMs = 5_000;
/** Decisions of the extra, untimed pass that splits the chain's time by SQL statement. */
const profiled = 300;
const caseDeadlineMs = 90_000;
const tenant = 'bench';
const goal = { op: '<=', value: 1_000 } as const; // µs: p99 ≤ 1 ms per decision
const budgets = { actionsPerHour: 1_000_000, blastRadius: 10, costPerRun: 1_000 };

const benchPlugin = definePlugin({
  name: 'bench',
  version: '1.0.0',
  description: 'Benchmark probe: a destructive step for the second policy figure (never executed).',
  steps: {
    drain: defineStep({
      description: 'Would drain a node.',
      input: z.object({ node: z.string() }),
      risk: 'destructive',
      reversible: false,
      targets: (i) => [`node/${i.node}`],
      simulate: (_ctx, i) => ({ summary: `drain node/${i.node}` }),
      execute: async () => ({}),
    }),
  },
});
const catalog = validatePlugins([...plugins, benchPlugin]);

const playbook = (name: string, extra: string, step: string) => `
apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name}, owner: bench }
spec:
  on: [{ alert: { match: { alertname: ${name} } } }]
  environment: production${extra}
  steps: [${step}]
`;
const call = '{ id: call, uses: http.request, with: { url: "http://127.0.0.1:9/restart" } }';
const playbooks = {
  plain: playbook('bench-plain', '', call),
  budgeted: playbook('bench-budgeted', `\n  budgets: ${JSON.stringify(budgets)}`, call),
  destructive: playbook(
    'bench-destructive',
    '',
    '{ id: drain, uses: bench.drain, with: { node: n1 } }',
  ),
};
type Kind = keyof typeof playbooks;

/** Nearest-rank percentile (0–1) of samples. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}
const us = (v: number) => `${v.toFixed(v < 100 ? 1 : 0)} µs`;
const spread = (v: readonly number[]) =>
  `p50 ${us(percentile(v, 0.5))}, p99 ${us(percentile(v, 0.99))}, max ${us(percentile(v, 1))}`;

interface Samples {
  warden: number[];
  ceiling: number[];
}

/**
 * Warms both sides up, then times them alternately (Warden, ceiling, Warden, …), one call at a
 * time, in µs. Call i gets index i: `warmup` warm-up calls, then up to `decisions` measured.
 */
async function sample(warden: (i: number) => unknown, ceiling: (i: number) => unknown) {
  const time = async (fn: (i: number) => unknown, i: number) => {
    const start = performance.now();
    const answer = fn(i);
    // Sync calls are timed without an await; knex's answers are thenables, not Promises.
    if (typeof (answer as PromiseLike<unknown> | undefined)?.then === 'function') await answer;
    return (performance.now() - start) * 1000;
  };
  const out: Samples = { warden: [], ceiling: [] };
  let deadline = Number.POSITIVE_INFINITY;
  for (let i = 0; i < warmup + decisions && performance.now() < deadline; i++) {
    const w = await time(warden, i);
    const c = await time(ceiling, i);
    if (i === warmup - 1) deadline = performance.now() + 2 * budgetMs;
    if (i < warmup) continue;
    out.warden.push(w);
    out.ceiling.push(c);
  }
  return out;
}

/** The tenant, its playbooks and the guardrails as `serve` builds them, and each step's input. */
async function setUp(db: Database) {
  const ledger = await createLedger({ knex: db.knex, signer: createSigner(generateSigningKey()) });
  const deps = { knex: db.knex, ledger };
  await createTenant(deps, { id: tenant, tier: 'enterprise' }, 'bench');
  const loaded = Object.entries(playbooks).map(([kind, yaml]) => {
    const parsed = parsePlaybook(yaml, `${kind}.yaml`);
    if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
    return { file: `${kind}.yaml`, ...parsed };
  });
  const versions = await syncPlaybookVersions(deps, tenant, loaded);
  const config = tenantSchema({ env: {}, baseDir: '.' }).parse({
    id: tenant,
    tier: 'enterprise',
    plugins: { http: { allowedHosts: ['127.0.0.1:9'] } },
  });
  const logger = pino({ level: 'silent' });
  const guardrails = await openGuardrails({ ...deps, catalog, tenants: [config], logger });
  const inputs = {} as Record<Kind, (runId: string) => GuardInput>;
  for (const kind of Object.keys(playbooks) as Kind[]) {
    const version = versions.find((v) => v.name === `bench-${kind}`);
    if (!version) throw new Error(`bench-${kind} was not stored`);
    // The step's plan as the engine makes it: the run context, interpolated, simulated.
    const context = runContext(null, { name: version.name, version: version.version });
    const sim = await simulateRun({
      playbook: version.definition,
      context,
      catalog,
      tenant,
      config,
      logger,
    });
    const plan = sim.ok ? sim.steps[0] : undefined;
    if (!plan) throw new Error(`${version.name} did not simulate: ${JSON.stringify(sim)}`);
    const initiator = `playbook:${version.name}`;
    inputs[kind] = (runId) => ({ tenant, runId, playbook: version, plan, context, initiator });
  }
  return { knex: db.knex, guard: guardrails.guard, policy: guardrails.policy, inputs };
}
type Setup = Awaited<ReturnType<typeof setUp>>;

/**
 * `count` queued runs of `version`, for budget_usage to reference: the rows `insertRun` writes, 500
 * per statement (their steps are left out: the guard reads none). `createRun`, one run at a time,
 * took 1–2.5 ms per run on PGlite here: too slow for thousands.
 */
async function createRuns(knex: Knex, version: PlaybookVersion, count: number) {
  const context = JSON.stringify(
    runContext(null, { name: version.name, version: version.version }),
  );
  const ids = Array.from({ length: count }, () => randomUUID());
  const rows = ids.map((id) => ({
    id,
    tenant_id: tenant,
    playbook_version_id: version.id,
    playbook_name: version.name,
    status: 'queued',
    context,
    initiator: `playbook:${version.name}`,
  }));
  for (let i = 0; i < rows.length; i += 500) await knex('runs').insert(rows.slice(i, i + 500));
  return ids;
}

/** The ceiling's policy set: the built-in policies, checked and prepared by cedar-wasm as Warden does. */
function prepareRawSet(): string {
  const read = (name: string) => {
    const url = new URL(`../src/guardrails/policies/${name}`, import.meta.url);
    return { file: fileURLToPath(url), text: readFileSync(url, 'utf8') };
  };
  const schema = buildSchema(read('warden.cedarschema'), [...catalog.keys()]);
  const files = ['baseline.cedar', 'destructive.cedar', 'dual-control.cedar'];
  const entries = files.flatMap((f) => checkPolicyFile(read(f), schema).entries);
  const id = `bench-raw-${randomUUID()}`;
  const staticPolicies = Object.fromEntries(entries.map((e) => [e.id, e.text]));
  const answer = cedar.preparsePolicySet(id, { staticPolicies });
  if (answer.type === 'failure') throw new Error(answer.errors[0]?.message);
  return id;
}

/** One raw `statefulIsAuthorized`, asked as policy-decision.ts asks for the first target. */
function rawDecide(setId: string, r: PolicyRequest) {
  const resource = { type: 'Warden::Target', id: r.targets[0] ?? '*' };
  const context = { risk: r.risk, reversible: r.reversible, approvals: r.approvals };
  return cedar.statefulIsAuthorized({
    principal: { type: `Warden::${r.principal.type}`, id: r.principal.id },
    action: { type: 'Warden::Action', id: r.action },
    resource,
    context: { ...context, targetCount: r.targets.length },
    entities: [
      {
        uid: resource,
        attrs: { name: resource.id, environment: r.environment, tier: r.tier },
        parents: [],
      },
    ],
    preparsedPolicySetId: setId,
  });
}

async function measurePolicy(s: Setup, kind: Kind) {
  const { plan, playbook, context, initiator } = s.inputs[kind](randomUUID());
  // The request the chain builds (the tenant is configured as enterprise; no approvals yet).
  const request: PolicyRequest = {
    tenant,
    tier: 'enterprise',
    principal: principalOf(initiator),
    action: plan.uses,
    targets: plan.targets,
    environment: environmentOf(playbook.definition.spec, context),
    risk: plan.risk,
    reversible: plan.reversible,
    approvals: 0,
  };
  const setId = prepareRawSet();
  const expected = s.policy.decide(request);
  const raw = rawDecide(setId, request);
  if (
    raw.type === 'failure' ||
    (raw.response.decision === 'allow') !== (expected.outcome === 'allow')
  )
    throw new Error(`raw Cedar disagrees with the policy engine: ${JSON.stringify(raw)}`);
  const samples = await sample(
    () => s.policy.decide(request),
    () => rawDecide(setId, request),
  );
  const answer = `${expected.outcome} (${expected.reasons.join(', ')})`;
  return { samples, note: `PolicyEngine.decide, ${plan.uses} (risk ${plan.risk}) → ${answer}` };
}

const statementLabels: Array<[RegExp, string]> = [
  [/from "kill_switches"/, 'kill-switch read'],
  [/pg_advisory_xact_lock/, 'advisory lock'],
  [/count\(\*\) from budget_usage/, 'budget use read'],
  [/insert into budget_usage/, 'budget insert'],
];

/** Time per SQL statement over `count` calls of `run`, from knex's query events (untimed pass). */
async function statementTimes(knex: Knex, count: number, run: (j: number) => Promise<void>) {
  const started = new Map<string, number>();
  const times = new Map<string, number[]>();
  const totals: number[] = [];
  const onQuery = (q: { __knexQueryUid: string }) =>
    started.set(q.__knexQueryUid, performance.now());
  const onResponse = (_: unknown, q: { __knexQueryUid: string; sql: string }) => {
    const key = statementLabels.find(([re]) => re.test(q.sql))?.[1] ?? q.sql.slice(0, 30);
    const list = times.get(key) ?? times.set(key, []).get(key);
    list?.push(performance.now() - (started.get(q.__knexQueryUid) ?? 0));
  };
  knex.on('query', onQuery).on('query-response', onResponse);
  try {
    for (let j = 0; j < count; j++) {
      const start = performance.now();
      await run(j);
      totals.push(performance.now() - start);
    }
  } finally {
    knex.off('query', onQuery).off('query-response', onResponse);
  }
  const p50 = (v: number[]) => percentile(v, 0.5) * 1000;
  const parts = [...times].map(([k, v]) => `${k} ${us(p50(v))}`);
  const inSql = [...times.values()].reduce((sum, v) => sum + p50(v) * (v.length / count), 0);
  return `per statement (p50 over ${count} more decisions, untimed pass): ${parts.join(', ')}; rest (begin/commit, policy, JS) ≈ ${us(p50(totals) - inSql)}`;
}

/** The whole guard before the http.request step of `kind`; every decision must allow. */
async function measureChain(s: Setup, kind: 'plain' | 'budgeted', engine: string) {
  const input = s.inputs[kind];
  const version = input('').playbook;
  // A budgeted decision consumes once per (run, step): each decision gets a fresh run.
  const needed = kind === 'budgeted' ? warmup + decisions + profiled : 1;
  const runs = await createRuns(s.knex, version, needed);
  const refused: string[] = [];
  let last: unknown;
  const decide = async (i: number) => {
    const d = await s.guard(input(runs[i] ?? (runs[0] as string)));
    if (d.outcome !== 'allow') refused.push(`${d.outcome}: ${d.reasons.join(', ')}`);
    last = d.budgets;
  };
  // A budgeted decision's unavoidable part: the same transaction shape and write, nothing read.
  const ceiling =
    kind === 'plain'
      ? async () => {
          await s.knex.raw('select 1');
        }
      : (i: number) =>
          s.knex.transaction(async (trx) => {
            await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['bench:ceiling']);
            await trx.raw(
              `insert into budget_usage (tenant_id, run_id, step_id, playbook_name, is_action, targets, cost)
               values (?, ?, 'ceiling', 'bench-ceiling', true, '[]'::jsonb, 0)`,
              [tenant, runs[i] as string],
            );
          });
  const samples = await sample(decide, ceiling);
  const n = warmup + samples.warden.length;
  const statements = await statementTimes(s.knex, profiled, (j) => decide(n + j));
  if (refused.length > 0) throw new Error(`${refused.length} decision(s) refused: ${refused[0]}`);
  const parts = [`guard on ${engine}, ${version.name}`];
  if (kind === 'budgeted') {
    const tenth = Math.max(1, Math.floor(samples.warden.length / 10));
    parts.push(
      `budgets after the last ${JSON.stringify(last)}`,
      `p50 of the first tenth ${us(percentile(samples.warden.slice(0, tenth), 0.5))}, ` +
        `of the last tenth ${us(percentile(samples.warden.slice(-tenth), 0.5))}`,
    );
  }
  return { samples, note: [...parts, statements].join('; ') };
}

interface Case {
  name: string;
  ceilingLabel: string;
  measure(s: Setup): Promise<{ samples: Samples; note: string }>;
}

/** The rows of one engine; the policy rows touch no database and run on PGlite's setup. */
function casesOn(engine: 'pglite' | 'postgres'): Case[] {
  const policy = (name: string, kind: Kind): Case => ({
    name,
    ceilingLabel: 'raw cedar-wasm statefulIsAuthorized, the same built-in policies prepared once',
    measure: (s) => measurePolicy(s, kind),
  });
  const policies = [
    policy('guardrails.policy.p99', 'plain'),
    policy('guardrails.policy-destructive.p99', 'destructive'),
  ];
  return [
    ...(engine === 'pglite' ? policies : []),
    {
      name: `guardrails.chain-${engine}.p99`,
      ceilingLabel: 'a bare `select 1` round trip through the same knex',
      measure: (s) => measureChain(s, 'plain', engine),
    },
    {
      name: `guardrails.budgeted-chain-${engine}.p99`,
      ceilingLabel: 'a bare begin → pg_advisory_xact_lock → insert into budget_usage → commit',
      measure: (s) => measureChain(s, 'budgeted', engine),
    },
  ];
}

async function openEngine(databaseUrl: string | undefined): Promise<Database> {
  if (!databaseUrl) return openDatabase({});
  const { db, cleanup } = await openBenchSchema(databaseUrl);
  return { ...db, close: cleanup };
}

export const guardrailsBenchmark = defineBenchmark({
  name: 'guardrails',
  description: 'one guardrail decision (warm policy engine), p99 µs, vs raw Cedar / bare SQL',
  async run({ databaseUrl, log }) {
    const rows: BenchRow[] = [];
    for (const engine of ['pglite', 'postgres'] as const) {
      const cases = casesOn(engine);
      const base = (c: Case) => ({
        name: c.name,
        unit: 'µs',
        warden: null,
        ceiling: null,
        ceilingLabel: c.ceilingLabel,
        goal,
      });
      if (engine === 'postgres' && !databaseUrl) {
        rows.push(...cases.map((c) => ({ ...base(c), note: 'skipped: DATABASE_URL is not set' })));
        continue;
      }
      const db = await openEngine(engine === 'postgres' ? databaseUrl : undefined);
      try {
        const s = await setUp(db);
        for (const c of cases) {
          log(`guardrails: ${c.name}`);
          try {
            const r = await withDeadline(c.measure(s), caseDeadlineMs, c.name);
            const note = `${spread(r.samples.warden)}; ceiling ${spread(r.samples.ceiling)}; ${r.samples.warden.length} decisions after ${warmup} warm-up; ${r.note}`;
            log(`  ${note}`);
            rows.push({
              ...base(c),
              warden: percentile(r.samples.warden, 0.99),
              ceiling: percentile(r.samples.ceiling, 0.99),
              samples: r.samples,
              note,
            });
          } catch (err) {
            rows.push({ ...base(c), error: (err as Error).message });
          }
        }
      } finally {
        await db.close();
      }
    }
    return rows;
  },
});
