/**
 * Trust Report → one self-contained HTML file (stylesheet inlined, charts as inline SVG, no script,
 * no external URL). Handlebars runs on a private instance, strict, escaping on, known helpers only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { WardenError } from '../errors.js';
import {
  formatDate,
  formatDateTime,
  formatMinutes,
  formatNumber,
  formatPercent,
  formatSeconds,
} from './format.js';
import { type TrustReport, type TrustReportInput, trustReportSchema } from './report-model.js';
import { createReportView } from './report-view.js';

export interface HtmlRendererOptions {
  /** @defaultValue `<package root>/templates/reports` */
  templatesDir?: string | undefined;
}

/** The folder holding package.json, from the sources (src/) or the build (dist/src/). */
function packageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return from;
}

const defaultTemplatesDir = () =>
  resolve(packageRoot(dirname(fileURLToPath(import.meta.url))), 'templates/reports');

type Formatter = (value: never) => string;
const helpers: Record<string, Formatter> = {
  number: formatNumber,
  percent: formatPercent,
  minutes: formatMinutes,
  seconds: formatSeconds,
  datetime: formatDateTime,
  date: formatDate,
  join: (list: readonly string[]) => list.join(', '),
};

/**
 * Compiles the templates once and returns the renderer; the report is validated against
 * `trustReportSchema` on every call.
 * @example
 * const render = createHtmlRenderer();
 * await writeFile('report.html', render(report));
 */
export function createHtmlRenderer(options: HtmlRendererOptions = {}) {
  const dir = options.templatesDir ?? defaultTemplatesDir();
  const hbs = Handlebars.create();
  const compileOptions = {
    strict: true,
    noEscape: false,
    knownHelpersOnly: true,
    knownHelpers: Object.fromEntries(Object.keys(helpers).map((name) => [name, true])),
  };
  for (const [name, format] of Object.entries(helpers)) {
    // Handlebars appends its options object: format only the first argument, a field of the
    // validated model whose type the template pairs with the helper.
    hbs.registerHelper(name, (value: unknown) => format(value as never));
  }
  const partialsDir = join(dir, 'partials');
  for (const file of existsSync(partialsDir) ? readdirSync(partialsDir).sort() : []) {
    if (!file.endsWith('.hbs')) continue;
    const source = readFileSync(join(partialsDir, file), 'utf8');
    hbs.registerPartial(basename(file, '.hbs'), hbs.compile(source, compileOptions));
  }
  const template = hbs.compile(readFileSync(join(dir, 'trust-report.hbs'), 'utf8'), compileOptions);
  const css = readFileSync(join(dir, 'report.css'), 'utf8');

  return (input: TrustReport | TrustReportInput): string => {
    const parsed = trustReportSchema.safeParse(input);
    if (!parsed.success) {
      throw new WardenError('invalid', 'The trust report does not match its model.', {
        details: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      });
    }
    return template({ ...createReportView(parsed.data), css });
  };
}

let defaultRenderer: ReturnType<typeof createHtmlRenderer> | undefined;

/**
 * Renders a report with the templates shipped in `templates/reports` (compiled on first use).
 * @example
 * const html = renderReportHtml(sampleTrustReport());
 */
export function renderReportHtml(report: TrustReport | TrustReportInput): string {
  defaultRenderer ??= createHtmlRenderer();
  return defaultRenderer(report);
}
