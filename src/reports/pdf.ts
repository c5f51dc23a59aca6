/**
 * HTML → PDF with the system Chromium through puppeteer-core (the only module that imports it).
 * One warm browser, launched on first use and reused for every report; a new page per render.
 */
import { accessSync, constants } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { WardenError } from '../errors.js';

/** Where Chromium is looked for when no path is given, in order. */
export const chromiumCandidates = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
] as const;

const installHint =
  'Install it with `apt-get install chromium` (Debian/Ubuntu) or set CHROMIUM_PATH to a Chrome or ' +
  'Chromium binary. The HTML report is produced without it.';

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The Chromium to drive: the explicit path (CHROMIUM_PATH) if given, else the first candidate found.
 * @throws WardenError `not_ready` with how to install Chromium.
 */
export function findChromium(explicit?: string): string {
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new WardenError(
      'not_ready',
      `No executable Chromium at ${explicit} (CHROMIUM_PATH). ${installHint}`,
    );
  }
  const found = chromiumCandidates.find(isExecutable);
  if (found) return found;
  throw new WardenError(
    'not_ready',
    `Chromium not found (looked in ${chromiumCandidates.join(', ')}). ${installHint}`,
  );
}

export interface PdfRendererOptions {
  /** @defaultValue auto-detected, see `chromiumCandidates` */
  chromiumPath?: string | undefined;
}

export interface PdfRenderOptions {
  /** Shown at the bottom left of every page, e.g. `Acme Payments · Trust Report 2026-W47`. */
  footerLabel?: string | undefined;
}

export interface PdfRenderer {
  render(html: string, options?: PdfRenderOptions): Promise<Uint8Array>;
  /** A PNG of the whole page at this viewport width (a dashboard screenshot for the posture pack). */
  screenshot(html: string, options?: { width?: number; height?: number }): Promise<Uint8Array>;
  close(): Promise<void>;
  /** How many times a browser was launched (1 while the warm browser stays up). */
  readonly launches: number;
}

const margin = { top: '16mm', right: '15mm', bottom: '18mm', left: '15mm' };

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const footerTemplate = (label: string) => `
<div style="width:100%;margin:0 15mm;display:flex;justify-content:space-between;
  font-family:'Liberation Sans',Arial,sans-serif;font-size:7.5px;color:#5b6b82;">
  <span>${escapeHtml(label)}</span>
  <span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span>
</div>`;

/**
 * @example
 * const pdf = createPdfRenderer({ chromiumPath: config.CHROMIUM_PATH });
 * const bytes = await pdf.render(renderReportHtml(report), { footerLabel: 'Acme · 2026-W47' });
 * await pdf.close(); // on shutdown
 */
export function createPdfRenderer(options: PdfRendererOptions = {}): PdfRenderer {
  let browser: Promise<Browser> | undefined;
  let launches = 0;

  function warmBrowser(): Promise<Browser> {
    if (browser) return browser;
    const executablePath = findChromium(options.chromiumPath);
    const args = ['--disable-gpu', '--disable-dev-shm-usage'];
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    launches += 1;
    const launching = puppeteer.launch({ executablePath, headless: true, args }).then(
      (launched) => {
        launched.once('disconnected', () => {
          if (browser === launching) browser = undefined;
        });
        return launched;
      },
      (cause: unknown) => {
        browser = undefined;
        throw new WardenError(
          'not_ready',
          `Chromium at ${executablePath} failed to start. ${installHint}`,
          {
            cause,
          },
        );
      },
    );
    browser = launching;
    return launching;
  }

  /** A page of the warm browser holding `html`: no script runs and nothing is fetched. */
  async function openPage(html: string, viewport?: { width: number; height: number }) {
    let current = await warmBrowser();
    if (!current.connected) {
      browser = undefined;
      current = await warmBrowser();
    }
    const page = await current.newPage();
    try {
      await page.setJavaScriptEnabled(false);
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        if (request.url().startsWith('data:')) void request.continue();
        else void request.abort('blockedbyclient');
      });
      if (viewport) await page.setViewport(viewport);
      await page.setContent(html, { waitUntil: 'load' });
      return page;
    } catch (err) {
      await page.close().catch(() => {});
      throw err;
    }
  }

  return {
    get launches() {
      return launches;
    },
    async screenshot(html, size = {}) {
      const page = await openPage(html, { width: size.width ?? 1280, height: size.height ?? 900 });
      try {
        return await page.screenshot({ type: 'png', fullPage: true });
      } finally {
        await page.close().catch(() => {});
      }
    },
    async render(html, renderOptions = {}) {
      const page = await openPage(html);
      try {
        return await page.pdf({
          format: 'A4',
          printBackground: true,
          displayHeaderFooter: true,
          headerTemplate: '<span></span>',
          footerTemplate: footerTemplate(renderOptions.footerLabel ?? ''),
          margin,
        });
      } finally {
        await page.close().catch(() => {});
      }
    },
    async close() {
      const closing = browser;
      browser = undefined;
      if (closing) await (await closing.catch(() => undefined))?.close();
    },
  };
}
