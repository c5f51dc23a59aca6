/**
 * Chromium and poppler-utils for the report tests. CHROMIUM_PATH or the usual install paths; with
 * WARDEN_REQUIRE_SERVICES=1 a missing one fails the run loudly, otherwise those tests are skipped.
 */
import { spawnSync } from 'node:child_process';
import { findChromium } from '../../src/reports/pdf.js';
import { requireServices } from './services.js';

function required(what: string, why: string): undefined {
  if (requireServices) throw new Error(`WARDEN_REQUIRE_SERVICES=1 but ${what} is missing: ${why}`);
  return undefined;
}

/** The Chromium binary the PDF tests drive, or undefined (tests skipped). */
export function chromiumUnderTest(): string | undefined {
  try {
    return findChromium(process.env.CHROMIUM_PATH || undefined);
  } catch (error) {
    return required('Chromium', (error as Error).message);
  }
}

/** Whether pdftotext, pdfinfo and pdftoppm (poppler-utils) are on the PATH. */
export function popplerAvailable(): boolean {
  const found = ['pdftotext', 'pdfinfo', 'pdftoppm'].every(
    (tool) => spawnSync(tool, ['-v'], { stdio: 'ignore' }).error === undefined,
  );
  return found || (required('poppler-utils', 'apt-get install poppler-utils') ?? false);
}
