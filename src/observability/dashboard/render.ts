/**
 * Render: the dashboard's Handlebars templates (`templates/dashboard`) on a private instance —
 * strict, escaping on, no helpers: view models arrive as ready-to-print strings; only chart SVG,
 * drawn by ECharts from escaped text, is inserted raw.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const pageNames = ['login', 'overview', 'run', 'operator', 'error'] as const;
export type PageName = (typeof pageNames)[number];

/** The folder holding package.json, from the sources (src/) or the build (dist/src/). */
function packageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return from;
}

export interface DashboardRenderer {
  render(page: PageName, view: object): string;
  css: string;
  /** A digest of the stylesheet, so its URL changes when it does (cached for a year). */
  cssVersion: string;
}

/**
 * @param templatesDir @defaultValue `<package root>/templates/dashboard`
 * @example
 * const { render } = createDashboardRenderer();
 * const html = render('login', { chrome, error: null, loginToken });
 */
export function createDashboardRenderer(templatesDir?: string): DashboardRenderer {
  const dir =
    templatesDir ??
    resolve(packageRoot(dirname(fileURLToPath(import.meta.url))), 'templates/dashboard');
  const hbs = Handlebars.create();
  const options = { strict: true, noEscape: false, knownHelpersOnly: true };
  const partials = join(dir, 'partials');
  for (const file of readdirSync(partials).sort()) {
    if (!file.endsWith('.hbs')) continue;
    const source = readFileSync(join(partials, file), 'utf8');
    hbs.registerPartial(basename(file, '.hbs'), hbs.compile(source, options));
  }
  const pages = new Map(
    pageNames.map((name) => [
      name,
      hbs.compile(readFileSync(join(dir, `${name}.hbs`), 'utf8'), options),
    ]),
  );
  const css = readFileSync(join(dir, 'dashboard.css'), 'utf8');
  return {
    render: (page, view) => (pages.get(page) as Handlebars.TemplateDelegate)(view),
    css,
    cssVersion: createHash('sha256').update(css).digest('hex').slice(0, 12),
  };
}
