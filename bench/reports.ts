import type { Knex } from 'knex';
import { overviewView } from '../src/observability/dashboard/overview.js';
import { createDashboardRenderer } from '../src/observability/dashboard/render.js';
import { timeWindow } from '../src/observability/dashboard/time-window.js';
import { aggregateTrustReport } from '../src/reports/aggregate.js';
import { createPdfRenderer, findChromium } from '../src/reports/pdf.js';
import { renderReportHtml } from '../src/reports/render-html.js';
import { openDatabase } from '../src/storage/database.js';
import { createBenchDatabase } from './bench-database.js';
import { type BenchRow, defineBenchmark } from './benchmark.js';
import { median } from './stats.js';

const tenant = 'bench';
const week = '2026-W47';
const weekStart = '2026-11-16T00:00:00Z';
const weekEnd = '2026-11-23T00:00:00Z';
const previousWeekStart = '2026-11-09T00:00:00Z';
/** Receipts of the previous week (seq 1…), then of the measured week. */
const previousReceipts = 10_000;
const weekReceipts = 1_000_000;
const runs = 50_000;
/** Another tenant's receipts in the same week, so every query has rows to leave out. */
const noiseReceipts = 100_000;
const playbooks = 20;
/** A checkpoint every this many receipts (the anchor signs one per batch). */
const checkpointEvery = 500;
const measuredRuns = 3;

/** Seconds between consecutive receipts and runs of the week, spread evenly over its 7 days. */
const receiptStep = (7 * 86_400) / weekReceipts;
const runStep = (7 * 86_400) / runs;

/** A 64-byte value as base64 (an Ed25519 signature's size), from md5s of a seed expression. */
const fakeSig = (seed: string) =>
  `translate(encode(decode(md5('a'||${seed})||md5('b'||${seed})||md5('c'||${seed})||md5('d'||${seed}), 'hex'), 'base64'), chr(10), '')`;
const fakeDigest = (seed: string) => `'sha256:'||md5('x'||${seed})||md5('y'||${seed})`;

/**
 * The tenant's week, bulk-inserted with generate_series (minutes instead of hours through the
 * product). Figures are shaped like a busy production tenant: 1 firing alert per run, 2 % events,
 * 10 % of alerts resolved, runs 80 % succeeded, 5 % with an approval ticket, a budget denial every
 * 500 receipts, two signing keys, a checkpoint every 500 receipts and the whole Merkle log.
 */
async function seedWeek(knex: Knex): Promise<void> {
  const q = (sql: string) => knex.raw(sql);
  await q(`insert into tenants (id, name, tier) values
    ('${tenant}', 'Bench Corp', 'enterprise'), ('noise', 'Noise Inc', 'enterprise')`);
  await q(`insert into signing_keys (key_id, alg, public_key_pem) values
    ('ed25519:00000000000000a1', 'Ed25519', 'bench'), ('ed25519:00000000000000b2', 'Ed25519', 'bench'),
    ('ed25519:00000000000000c3', 'Ed25519', 'bench')`);
  await q(`insert into api_tokens (id, tenant_id, name, scope, token_hash, source, revoked_at)
    select 'tok-'||i, '${tenant}', 'token-'||i, (array['ingest','ingest','ingest','read','read','admin','admin'])[i],
      md5('tok'||i), 'cli', case when i = 7 then now() end
    from generate_series(1, 7) i`);
  await q(`insert into playbook_versions (id, tenant_id, name, version, digest, definition)
    select 'pv-'||p, '${tenant}', 'pb-'||p, 1, ${fakeDigest("'pv'||p")},
      jsonb_build_object('apiVersion', 'warden/v1', 'kind', 'Playbook',
        'metadata', jsonb_build_object('name', 'pb-'||p),
        'spec', jsonb_build_object('manualMinutes', 5 + p, 'budgets', '{}'::jsonb,
          'autoDisable', '{}'::jsonb, 'on', jsonb_build_array(jsonb_build_object('alert',
            jsonb_build_object('match', jsonb_build_object('alertname', 'Alert'||p)))),
          'steps', '[{"id":"act","uses":"http.request","with":{}},{"id":"verify","uses":"http.request","with":{}}]'::jsonb))
    from generate_series(0, ${playbooks - 1}) p`);
  await q(`insert into playbooks (tenant_id, name, current_version_id)
    select '${tenant}', 'pb-'||p, 'pv-'||p from generate_series(0, ${playbooks - 1}) p`);
  const runAt = `timestamptz '${weekStart}' + j * interval '${runStep} seconds'`;
  await q(`insert into triggers (id, tenant_id, source, kind, status, fingerprint, dedup_key, labels,
      annotations, starts_at, event_type, data, links, delivery, body_digest, received_at, receipt_id)
    select 'trg-'||j, '${tenant}', case when j % 50 = 0 then 'deploys' else 'alertmanager' end,
      case when j % 50 = 0 then 'event' else 'alert' end,
      case when j % 50 = 0 then 'received' else 'firing' end, md5('fp'||j), 'dk-'||j,
      jsonb_build_object('alertname', 'Alert'||(j % 30), 'shard', (j % 7)::text, 'severity', 'page'),
      '{"runbook_url":"https://runbooks.example/x"}', ${runAt} - ((j % 5) + 1) * interval '1 minute',
      case when j % 50 = 0 then 'deploy.finished' end, case when j % 50 = 0 then '{}'::jsonb end,
      '{}', '{}', 'sha256:'||md5('b'||j), ${runAt}, 'r-t-'||j
    from generate_series(0, ${runs - 1}) j`);
  await q(`insert into triggers (id, tenant_id, source, kind, status, fingerprint, dedup_key, labels,
      annotations, starts_at, links, delivery, body_digest, received_at, resolves, receipt_id)
    select 'trg-res-'||j, '${tenant}', 'alertmanager', 'alert', 'resolved', md5('fp'||j), 'dkr-'||j,
      jsonb_build_object('alertname', 'Alert'||(j % 30)), '{}',
      ${runAt} - ((j % 5) + 1) * interval '1 minute', '{}', '{}', 'sha256:'||md5('r'||j),
      ${runAt} + interval '20 minutes', 'trg-'||j, 'r-tr-'||j
    from generate_series(0, ${runs - 1}) j where j % 10 = 1`);
  await q(`insert into runs (id, tenant_id, playbook_version_id, playbook_name, trigger_id, status,
      context, created_at, updated_at, finished_at, initiator)
    select 'run-'||j, '${tenant}', 'pv-'||(j % ${playbooks}), 'pb-'||(j % ${playbooks}), 'trg-'||j, st,
      jsonb_build_object('alert', jsonb_build_object('status', 'firing', 'fingerprint', md5('fp'||j),
        'labels', jsonb_build_object('alertname', 'Alert'||(j % 30), 'shard', (j % 7)::text))),
      c, c, case when st not in ('awaiting_approval') then c + ((j % 17) + 1) * interval '1 minute' end,
      'playbook:pb-'||(j % ${playbooks})
    from (select j, ${runAt} as c,
      case when j % 100 < 80 then 'succeeded' when j % 100 < 88 then 'failed'
           when j % 100 < 95 then 'denied' when j % 100 < 98 then 'awaiting_approval'
           else 'cancelled' end as st
      from generate_series(0, ${runs - 1}) j) s`);
  await q(`insert into run_steps (run_id, tenant_id, step_id, position, uses, status, decision)
    select r.id, r.tenant_id, s.step_id, s.position, 'http.request',
      case when r.status = 'succeeded' then 'succeeded' when r.status = 'denied' and s.position = 0
        then 'denied' else 'pending' end,
      '{"outcome":"allow","reasons":["policy:baseline-permit"]}'::jsonb
    from runs r, (values ('act', 0), ('verify', 1)) as s(step_id, position)
    where r.tenant_id = '${tenant}'`);
  await q(`insert into approvals (id, tenant_id, run_id, step_id, playbook_name, input_digest, outcome,
      reasons, next_steps, evidence, approvers, min_approvals, initiator, status, request_receipt_id,
      expires_at, created_at, decided_at)
    select 'apr-'||j, '${tenant}', 'run-'||j, 'act', 'pb-'||(j % ${playbooks}), ${fakeDigest("'i'||j")},
      'approval_required', '["policy:destructive-needs-approval"]', '[]', '[]',
      '["slack:U1","slack:U2","slack:U3"]', case when j % 40 = 0 then 2 else 1 end,
      'playbook:pb-'||(j % ${playbooks}), 'approved', 'r-a-'||j,
      ${runAt} + interval '30 minutes', ${runAt} + interval '5 seconds', ${runAt} + interval '2 minutes'
    from generate_series(0, ${runs - 1}) j where j % 20 = 0`);
  await q(`insert into approval_votes (approval_id, tenant_id, actor, decision, receipt_id, at)
    select a.id, a.tenant_id, v.actor, 'approve', 'r-v-'||a.id||v.actor, a.decided_at
    from approvals a, (values ('slack:U1', 1), ('slack:U2', 2)) as v(actor, n)
    where a.tenant_id = '${tenant}' and v.n <= a.min_approvals`);
  await seedReceipts(knex);
  await seedLog(knex);
}

/** The receipts: canonical-looking JSON bodies (~350 bytes), kinds in production proportions. */
async function seedReceipts(knex: Knex): Promise<void> {
  const first = previousReceipts + 1;
  const last = previousReceipts + weekReceipts;
  // Members in RFC 8785 order; a budget denial every 500 receipts, 5 breaker disables.
  const body = (t: string) => `concat('{',
      case when k = 'playbook.disabled' then concat('"actor":"',
        case when i % 200000 = 13 then 'breaker' else 'api:ops' end, '",') end,
      '"at":"', to_char(a at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '","id":"r-', s,
      '","kind":"', k, '","playbook":"pb-', s % ${playbooks}, '@sha256:', md5('pv'||(s % ${playbooks})),
      '","prev":"sha256:', md5('x'||(s - 1)), md5('y'||(s - 1)), '",',
      case when k = 'playbook.disabled'
        then '"reason":"3 consecutive failed runs (limit 3)","rule":"consecutiveFailures",'
        when k = 'step.denied' then concat('"reasons":["', (array['actions_per_hour_exceeded',
          'blast_radius_exceeded', 'kill_switch:tenant'])[1 + (i / 500) % 3], '"],') end,
      '"run":"run-', s % ${runs}, '","seq":', s, ',"step":"act","tenant":"${t}","v":1}')`;
  const kind = `case when i % 500 = 7 then 'step.denied'
      when i % 200000 in (13, 113) then 'playbook.disabled'
      else (array['trigger.received','run.simulated','step.executed','step.executed','run.finished'])[1 + ((i % 5) + 5) % 5] end`;
  await knex.raw(`insert into receipts (tenant_id, seq, id, kind, at, run_id, body, digest, key_id, sig)
    select '${tenant}', s, 'r-'||s, k, a, 'run-'||(s % ${runs}), ${body(tenant)}, ${fakeDigest('s')},
      case when s <= ${previousReceipts + weekReceipts / 2} then 'ed25519:00000000000000a1'
           else 'ed25519:00000000000000b2' end, ${fakeSig('s')}
    from (select s, i, ${kind} as k,
        case when s < ${first} then timestamptz '${previousWeekStart}' + s * interval '60 seconds'
             else timestamptz '${weekStart}' + i * interval '${receiptStep} seconds' end as a
      from (select s, s - ${first} as i from generate_series(1, ${last}) s) g) x`);
  await knex.raw(`insert into receipts (tenant_id, seq, id, kind, at, run_id, body, digest, key_id, sig)
    select 'noise', s, 'n-'||s, k, a, null, ${body('noise')}, ${fakeDigest("'n'||s")},
      'ed25519:00000000000000c3', ${fakeSig("'n'||s")}
    from (select s, i, ${kind} as k, timestamptz '${weekStart}' + i * interval '6 seconds' as a
      from (select s, s - 1 as i from generate_series(1, ${noiseReceipts}) s) g) x`);
  await knex.raw(`insert into ledger_heads (tenant_id, seq, digest) values
    ('${tenant}', ${last}, 'sha256:end'), ('noise', ${noiseReceipts}, 'sha256:end')`);
}

/**
 * The Merkle log: every complete subtree of the tenant's 1,010,000 leaves (synthetic hashes; the
 * aggregation reads only the O(log n) a consistency proof needs) and a checkpoint every 500 leaves,
 * created a couple of seconds after the receipt that completed it.
 */
async function seedLog(knex: Knex): Promise<void> {
  const size = previousReceipts + weekReceipts;
  await knex.raw(`insert into merkle_nodes (tenant_id, level, idx, hash)
    select '${tenant}', l, i, decode(md5(l||':'||i)||md5(i||':'||l), 'hex')
    from generate_series(0, ${Math.floor(Math.log2(size))}) l,
      lateral generate_series(0, (${size} >> l) - 1) i`);
  await knex.raw(`insert into merkle_heads (tenant_id, size) values ('${tenant}', ${size})`);
  await knex.raw(`insert into checkpoints (tenant_id, size, root, note, created_at)
    select '${tenant}', n, decode(md5('r'||n)||md5('s'||n), 'hex'),
      concat('bench.example/${tenant}', chr(10), n, chr(10), encode(decode(md5('r'||n)||md5('s'||n), 'hex'), 'base64'),
        chr(10), chr(10), '— bench.example/${tenant} ', ${fakeSig('n')}, chr(10)),
      case when n <= ${previousReceipts} then timestamptz '${previousWeekStart}' + n * interval '60 seconds'
           else timestamptz '${weekStart}' + (n - ${previousReceipts + 1}) * interval '${receiptStep} seconds' end
        + interval '2 seconds'
    from generate_series(${checkpointEvery}, ${size}, ${checkpointEvery}) n`);
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await f();
  return [value, performance.now() - started];
}

/**
 * The least any aggregation over the week's receipts pays: one grouped pass (count and seq range
 * per signing key), reading no body.
 */
const onePass = (knex: Knex) =>
  knex.raw(
    `select key_id, count(*), min(seq), max(seq) from receipts
      where tenant_id = ? and at >= ?::timestamptz and at < ?::timestamptz group by key_id`,
    [tenant, weekStart, weekEnd],
  );

type Report = Awaited<ReturnType<typeof aggregateTrustReport>>;

async function measureAggregation(
  knex: Knex,
  log: (line: string) => void,
): Promise<{ row: BenchRow; report: Report }> {
  const aggregate = () => aggregateTrustReport(knex, { tenant, week }, {});
  const [report] = await timed(aggregate); // warm-up: plans and caches
  await onePass(knex);
  const samples = { warden: [] as number[], ceiling: [] as number[] };
  for (let run = 1; run <= measuredRuns; run++) {
    samples.ceiling.push((await timed(() => onePass(knex)))[1]);
    samples.warden.push((await timed(aggregate))[1]);
    log(`  aggregation run ${run}: ${Math.round(samples.warden.at(-1) ?? 0)} ms`);
  }
  const row: BenchRow = {
    name: 'reports.aggregate-postgres',
    unit: 'ms',
    warden: median(samples.warden),
    ceiling: median(samples.ceiling),
    ceilingLabel: 'one grouped pass over the week’s receipts (count, seq range per key; no body)',
    goal: { op: '<=', value: 2_000 },
    samples,
    note: `p50 of ${measuredRuns} after a warm-up; ${weekReceipts.toLocaleString('en')} receipts and ${runs.toLocaleString('en')} runs in the week, ${noiseReceipts.toLocaleString('en')} receipts of another tenant`,
  };
  return { row, report };
}

/**
 * The dashboard's overview of the same week (every tile, chart and table; the `7d` window ending
 * with it), data and HTML, beside the cheapest query it could make: counting the window's runs.
 */
async function measureDashboard(knex: Knex, log: (line: string) => void): Promise<BenchRow> {
  const { render } = createDashboardRenderer();
  const w = timeWindow('7d', new Date(weekEnd));
  // The model the route renders, with a signed-in reader's page chrome.
  const chrome = {
    title: 'Bench Corp · Dashboard',
    cssHref: '/dashboard/assets/dashboard.css',
    signedIn: true,
    isOperator: false,
    who: 'reader · bench · read',
    csrf: 'x',
  };
  const page = async () =>
    render('overview', {
      ...(await overviewView(knex, tenant, w)),
      chrome,
      tenant: 'Bench Corp',
      window: w.name,
      windowLabel: w.label,
      windows: [],
      notice: null,
      canDecide: false,
    });
  const count = () =>
    knex('runs').where({ tenant_id: tenant }).andWhere('created_at', '>=', w.from).count();
  await page(); // warm-up
  const samples = { warden: [] as number[], ceiling: [] as number[] };
  for (let run = 1; run <= measuredRuns; run++) {
    samples.ceiling.push((await timed(count))[1]);
    samples.warden.push((await timed(page))[1]);
    log(`  dashboard run ${run}: ${Math.round(samples.warden.at(-1) ?? 0)} ms`);
  }
  return {
    name: 'dashboard.overview-7d',
    unit: 'ms',
    warden: median(samples.warden),
    ceiling: median(samples.ceiling),
    ceilingLabel: 'counting the window’s runs (one indexed query)',
    goal: { op: '<=', value: 1_000 },
    samples,
    note: `every tile, chart and table of the 7d overview over ${runs.toLocaleString('en')} runs and ${weekReceipts.toLocaleString('en')} receipts, rendered to HTML; p50 of ${measuredRuns}`,
  };
}

const trivialHtml =
  '<!doctype html><html><head><meta charset="utf-8"><title>ceiling</title></head>' +
  '<body><p>One line on one page.</p></body></html>';

async function measurePdf(report: Report, log: (line: string) => void): Promise<BenchRow> {
  const pdf = createPdfRenderer();
  const footerLabel = `${report.tenant.name} · Trust Report ${report.week.iso}`;
  try {
    const full = async () => pdf.render(renderReportHtml(report), { footerLabel });
    const trivial = () => pdf.render(trivialHtml, { footerLabel });
    await trivial(); // launches the browser: every measured render has it warm
    const [bytes] = await timed(full);
    const samples = { warden: [] as number[], ceiling: [] as number[] };
    for (let run = 1; run <= measuredRuns; run++) {
      samples.ceiling.push((await timed(trivial))[1]);
      samples.warden.push((await timed(full))[1]);
      log(`  pdf run ${run}: ${Math.round(samples.warden.at(-1) ?? 0)} ms`);
    }
    const [html, htmlMs] = await timed(async () => renderReportHtml(report));
    return {
      name: 'reports.pdf',
      unit: 'ms',
      warden: median(samples.warden),
      ceiling: median(samples.ceiling),
      ceilingLabel: 'a one-line, one-page PDF through the same warm renderer',
      goal: { op: '<=', value: 1_500 },
      samples,
      note: `renderReportHtml + render, p50 of ${measuredRuns} with a warm browser (${pdf.launches} launch); HTML alone ${htmlMs.toFixed(0)} ms, ${Math.round(html.length / 1024)} KiB; PDF ${Math.round(bytes.length / 1024)} KiB`,
    };
  } finally {
    await pdf.close();
  }
}

export const reportsBenchmark = defineBenchmark({
  name: 'reports',
  description: 'Trust Report aggregation over a 1M-receipt week, and its PDF with a warm browser',
  async run({ databaseUrl, log }) {
    const skipped = (name: string, note: string): BenchRow => ({
      name,
      unit: 'ms',
      warden: null,
      ceiling: null,
      ceilingLabel: '',
      note,
    });
    if (!databaseUrl) {
      const note = 'skipped: DATABASE_URL is not set (the 1M-receipt week is seeded on PostgreSQL)';
      return [skipped('reports.aggregate-postgres', note), skipped('reports.pdf', note)];
    }
    const database = await createBenchDatabase(databaseUrl);
    try {
      const db = await openDatabase({ databaseUrl: database.url });
      try {
        log('reports: seeding one week (PostgreSQL, generate_series)');
        const [, seedMs] = await timed(() => seedWeek(db.knex));
        // What autovacuum would have done by report time: statistics and the visibility map.
        const [, vacuumMs] = await timed(() => db.knex.raw('vacuum analyze'));
        log(
          `  seeded in ${(seedMs / 1000).toFixed(1)} s, vacuum analyze ${(vacuumMs / 1000).toFixed(1)} s`,
        );
        const { row, report } = await measureAggregation(db.knex, log);
        const dashboard = await measureDashboard(db.knex, log);
        let pdfRow: BenchRow;
        try {
          findChromium();
        } catch (err) {
          return [row, skipped('reports.pdf', `skipped: ${(err as Error).message}`), dashboard];
        }
        try {
          pdfRow = await measurePdf(report, log);
        } catch (err) {
          pdfRow = { ...skipped('reports.pdf', ''), error: (err as Error).message };
        }
        return [row, pdfRow, dashboard];
      } finally {
        await db.close();
      }
    } finally {
      await database.drop();
    }
  },
});
