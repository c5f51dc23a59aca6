/**
 * `npm run screenshots`: the README's pictures, taken for real. Starts the demo target and Warden
 * (demo config, fresh data folder, free ports), runs `warden demo` against them, then drives the
 * system Chromium (puppeteer-core) like a person: signs in to the dashboard with acme's demo read
 * token and captures it, and opens the week's Trust Report through its secure link and captures its
 * first page. Writes docs/images/dashboard.png and docs/images/trust-report.png.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer-core';
import { startDemoTarget } from '../examples/demo-target/server.js';
import { loadConfig } from '../src/config.js';
import { runDemo } from '../src/demo/demo.js';
import { prepareDemoWorkspace, demoTokens as tokens } from '../src/demo/demo-workspace.js';
import { createWardenApi } from '../src/demo/warden-api.js';
import { serve } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';
import { isoWeekOf } from '../src/reports/iso-week.js';
import { findChromium } from '../src/reports/pdf.js';

const images = resolve(import.meta.dirname, '../docs/images');
const log = (line: string) => process.stderr.write(`${line}\n`);

const dir = await mkdtemp(join(tmpdir(), 'warden-screenshots-'));
const target = await startDemoTarget({ port: 0, recoveryMs: 500 });
const configFile = prepareDemoWorkspace(dir, new URL(target.url).host);
const server = await serve(
  loadConfig({
    configFile,
    env: { PORT: '0', HOST: '127.0.0.1', WARDEN_DATA_DIR: join(dir, 'data') },
    cwd: dir,
  }),
  { logger: createLogger({ level: 'silent' }) },
);
const browser = await puppeteer.launch({
  executablePath: findChromium(process.env.CHROMIUM_PATH || undefined),
  headless: true,
  args: [
    '--disable-gpu',
    '--disable-dev-shm-usage',
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ],
});
try {
  const api = createWardenApi(server.url, tokens);
  log(`running the demo against ${server.url} …`);
  await runDemo({ api, tokens, targetUrl: target.url, outDir: join(dir, 'out'), out: () => {} });
  await mkdir(images, { recursive: true });

  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await page.goto(`${server.url}/dashboard/login`);
  await page.type('#token', tokens.read);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  await page.goto(`${server.url}/dashboard?window=24h`, { waitUntil: 'load' });
  await writeFile(
    join(images, 'dashboard.png'),
    await page.screenshot({ type: 'png', fullPage: true }),
  );
  log(`wrote ${join(images, 'dashboard.png')}`);

  const made = await api.post<{ links: Array<{ url: string }> }>('/api/v1/reports', {
    week: isoWeekOf(new Date()),
    format: 'html',
    deliver: true,
  });
  const link = made.links[0]?.url;
  if (!link) throw new Error('The report came without a secure link: acme needs a link target.');
  await page.setViewport({ width: 1000, height: 1300, deviceScaleFactor: 1 });
  // Links are made with the public URL, which names port 0 here (the port is picked at listen).
  await page.goto(new URL(new URL(link).pathname, server.url).href, { waitUntil: 'load' });
  await writeFile(join(images, 'trust-report.png'), await page.screenshot({ type: 'png' }));
  log(`wrote ${join(images, 'trust-report.png')}`);
} finally {
  await browser.close();
  await server.stop();
  await target.close();
  await rm(dir, { recursive: true, force: true });
}
