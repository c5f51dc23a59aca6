/**
 * Weekly Trust Report rendering: the sample report → a self-contained HTML file → a PDF printed by
 * the system Chromium, read back with poppler (pdftotext, pdfinfo). Page 1 is kept as
 * test-artifacts/report-page1.png next to the PDF. Without Chromium the PDF tests are skipped, or
 * fail under WARDEN_REQUIRE_SERVICES=1.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPdfRenderer, type PdfRenderer } from '../../src/reports/pdf.js';
import { renderReportHtml } from '../../src/reports/render-html.js';
import type { TrustReport } from '../../src/reports/report-model.js';
import { sampleTrustReport } from '../../src/reports/sample-report.js';
import { chromiumUnderTest, popplerAvailable } from '../helpers/chromium.js';

const sections = [
  'Executive summary',
  'Service levels and incidents',
  'Autonomous coverage',
  'Time saved',
  'Privileged actions and dual control',
  'Guardrails: budgets and auto-disable',
  'Tenant isolation',
  'Signing keys',
  'Transparency log anchoring',
  'Retention and purge',
  'None this week',
  'Disclosure',
  'Appendix: checkpoint and consistency proof',
];

// The sample's figures, as a reader sees them.
const figures = [
  'Acme Payments',
  '2026-W47',
  '16–22 November 2026',
  '131 / 137', // alerts resolved / fired
  '68.3 %', // autonomous coverage (97 of 142)
  '60 %', // the goal
  '4.2 min', // restart-ingest mean time to mitigate
  '1 h 30 min', // failover-db-replica baseline
  'IngestLagHigh',
  '8 of 8 privileged actions',
  'omar@acme.example',
  'ed25519:9f2c41d07be3a5e1',
  '1,284', // signatures
  '48,213', // tree size
  '46,929', // last week's tree size
  '312', // proofs served
  '42 s', // anchoring lag
  '45 h 19 min', // time saved
  'Actions per hour exceeded',
  'scale-checkout',
  '4 / 4 passed',
  'security-leadership',
  'warden.acme.example/acme',
];

const hostile = '<img src=x onerror=alert(1)>';

/** The list's item at `index`; the sample always has it. */
function nth<T>(list: T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new Error(`the sample report has no item ${index}`);
  return item;
}

function withHostileNames(): TrustReport {
  const report = sampleTrustReport();
  const [first] = report.slo.mttm;
  if (first) first.playbook = hostile;
  report.guardrails.autoDisables[0] = {
    ...nth(report.guardrails.autoDisables, 0),
    playbook: hostile,
  };
  report.slo.topIncidents[0] = {
    ...nth(report.slo.topIncidents, 0),
    alertname: '</style><script>x()</script>',
  };
  return report;
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(sampleTrustReport());

  it('produces one self-contained file: no script, no external URL, stylesheet and charts inline', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("default-src 'none'");
    expect(html).toMatch(/thead\s*\{\s*display:\s*table-header-group/);
    expect(html.match(/<svg\b/g)).toHaveLength(3);
  });

  it('puts the cover and the summary before every section, with the seeded figures', () => {
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    for (const expected of [...sections, ...figures]) expect(text).toContain(expected);
    const headings = [...html.matchAll(/<h[12][^>]*>([\s\S]*?)<\/h[12]>/g)].map((m) =>
      m[1]?.trim(),
    );
    expect(headings).toEqual([
      'Acme Payments', // cover
      'Disclosure',
      'How this report can be checked',
      'Executive summary',
      'Service levels and incidents',
      'Autonomous coverage',
      'Time saved',
      'Privileged actions and dual control',
      'Guardrails: budgets and auto-disable',
      'Tenant isolation',
      'Signing keys',
      'Transparency log anchoring',
      'Retention and purge',
      'Appendix: checkpoint and consistency proof',
    ]);
  });

  it('escapes hostile names from the data, in tables and in charts alike', () => {
    const out = renderReportHtml(withHostileNames());
    expect(out).not.toContain('<img');
    expect(out).not.toMatch(/<script/i);
    expect(out).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;'); // Handlebars
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;'); // ECharts SVG text
    expect(out).toContain('&lt;/style&gt;&lt;script&gt;');
  });

  it('flags privileged actions that lacked dual control', () => {
    const report = sampleTrustReport();
    report.privileged.actions[2] = {
      ...nth(report.privileged.actions, 2),
      approvers: ['omar@acme.example'],
      dualControl: false,
    };
    report.privileged.adherence = { actions: 8, dualControlled: 7, share: 7 / 8 };
    const out = renderReportHtml(report);
    expect(out).toContain('1 of 8 privileged actions lacked dual control.');
    expect(out).toContain('<span class="badge badge--bad">No</span>');
    expect(out).toContain('87.5 %');
  });

  it('renders the same bytes for the same report', () => {
    expect(renderReportHtml(sampleTrustReport())).toBe(html);
  });

  it('rejects a report that does not match its model, naming the field', () => {
    const report = sampleTrustReport();
    const bad = {
      ...report,
      week: { ...report.week, start: '2026-11-17' },
      coverage: { ...report.coverage, share: 1.4 },
    };
    expect(() => renderReportHtml(bad)).toThrow(
      expect.objectContaining({
        code: 'invalid',
        details: expect.arrayContaining([
          expect.stringMatching(/^coverage\.share/),
          expect.stringMatching(/^week: week 2026-W47 must span 2026-11-16\.\.2026-11-22/),
        ]),
      }),
    );
  });
});

const chromium = chromiumUnderTest();
const poppler = popplerAvailable();

describe.skipIf(!chromium || !poppler)('createPdfRenderer with the system Chromium', () => {
  const artifacts = join(process.cwd(), 'test-artifacts');
  let renderer: PdfRenderer;
  let pdf: Uint8Array;
  let pages: string[];
  let pageCount: number;

  const pdfText = (file: string) =>
    execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' })
      .split('\f')
      .slice(0, -1);

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    renderer = createPdfRenderer({ chromiumPath: chromium });
    pdf = await renderer.render(renderReportHtml(sampleTrustReport()), {
      footerLabel: 'Acme Payments · Weekly Trust Report 2026-W47',
    });
    const file = join(artifacts, 'report.pdf');
    writeFileSync(file, pdf);
    pages = pdfText(file);
    pageCount = Number(
      /^Pages:\s+(\d+)$/m.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1],
    );
  });
  afterAll(() => renderer?.close());

  it('prints an A4 PDF holding every section and the seeded figures', () => {
    expect(Buffer.from(pdf.subarray(0, 5)).toString()).toBe('%PDF-');
    const text = pages.join('\n');
    for (const expected of [...sections, ...figures]) expect(text).toContain(expected);
    expect(pageCount).toBeGreaterThanOrEqual(2);
    expect(pageCount).toBeLessThanOrEqual(12);
    expect(pages).toHaveLength(pageCount);
    const size = execFileSync('pdfinfo', [join(artifacts, 'report.pdf')], { encoding: 'utf8' });
    expect(size).toMatch(/Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/);
  });

  it('opens with the cover, then the summary, and numbers every page in the footer', () => {
    expect(pages[0]).toContain('WEEKLY TRUST REPORT');
    expect(pages[0]).toContain('Week 2026-W47 · 16–22 November 2026');
    expect(pages[0]).not.toContain('Executive summary');
    expect(pages[1]).toContain('Executive summary');
    pages.forEach((page, i) => {
      expect(page).toContain(`Page ${i + 1} of ${pageCount}`);
      expect(page).toContain('Acme Payments · Weekly Trust Report 2026-W47');
    });
  });

  it('keeps page 1 as a PNG test artifact', () => {
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      '80',
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      join(artifacts, 'report.pdf'),
      join(artifacts, 'report-page1'),
    ]);
    const png = readFileSync(join(artifacts, 'report-page1.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)]; // 210 × 297 mm at 80 dpi
    expect(Math.abs(width - 662)).toBeLessThanOrEqual(2);
    expect(Math.abs(height - 935)).toBeLessThanOrEqual(2);
  });

  it('breaks a long table across pages with its header repeated and no row split', async () => {
    const report = sampleTrustReport();
    const action = nth(report.privileged.actions, 0);
    const id = (i: number) => `r_row${String(i).padStart(2, '0')}`;
    // Tall rows (five approvers, five lines each) so a page boundary would fall inside one.
    const approvers = (i: number) => [1, 2, 3, 4, 5].map((k) => `${id(i)}.a${k}@acme.example`);
    report.privileged.actions = Array.from({ length: 40 }, (_, i) => ({
      ...action,
      approvers: approvers(i),
      receiptId: id(i),
    }));
    report.privileged.adherence = { actions: 40, dualControlled: 40, share: 1 };
    const file = join(artifacts, 'report-long-table.pdf');
    writeFileSync(file, await renderer.render(renderReportHtml(report)));
    const longPages = pdfText(file);
    const withRows = longPages.filter((page) => page.includes('r_row'));
    expect(withRows.length).toBeGreaterThanOrEqual(2);
    for (const page of withRows) {
      expect(page).toMatch(/WHEN\s+REQUESTED BY\s+APPROVERS\s+RECEIPT/);
    }
    for (let i = 0; i < 40; i++) {
      const pageOf = (text: string) => longPages.findIndex((page) => page.includes(text));
      const [first, last] = [approvers(i)[0] ?? '', approvers(i)[4] ?? ''];
      expect(pageOf(first), `row ${id(i)} split across pages`).toBe(pageOf(last));
    }
  });

  it('reuses one warm browser across reports, and relaunches after close', async () => {
    const before = renderer.launches;
    await renderer.render('<!doctype html><p>second</p>');
    expect(renderer.launches).toBe(before);
    expect(before).toBe(1);
    await renderer.close();
    await renderer.render('<!doctype html><p>third</p>');
    expect(renderer.launches).toBe(2);
  });

  it('fetches nothing the HTML points at and runs no script', async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const html = `<!doctype html><img src="http://127.0.0.1:${port}/pixel.png"><link rel="stylesheet" href="http://127.0.0.1:${port}/x.css"><script>document.body.textContent='ran'</script><p>static</p>`;
      const file = join(artifacts, 'report-blocked.pdf');
      writeFileSync(file, await renderer.render(html));
      expect(hits).toEqual([]);
      expect(pdfText(file).join('')).toContain('static');
      expect(pdfText(file).join('')).not.toContain('ran');
    } finally {
      server.close();
    }
  });
});

describe('createPdfRenderer without Chromium', () => {
  it('rejects with how to install Chromium, while the HTML is still produced', async () => {
    const renderer = createPdfRenderer({ chromiumPath: '/nonexistent/chromium' });
    const html = renderReportHtml(sampleTrustReport());
    expect(html).toContain('Executive summary');
    await expect(renderer.render(html)).rejects.toMatchObject({
      name: 'WardenError',
      code: 'not_ready',
      message: expect.stringMatching(
        /\/nonexistent\/chromium.*apt-get install chromium.*CHROMIUM_PATH/s,
      ),
    });
    expect(renderer.launches).toBe(0);
    await renderer.close();
  });
});
