/**
 * Posture pack pages: the one-pager and the evaluation plan, rendered by a private Handlebars
 * instance (strict, escaping on, no helpers) from templates/posture/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { Claim, PackLink } from './claim.js';
import type { ChecklistItem, PlanWeek } from './evaluation.js';
import type { ManifestArtifact } from './manifest.js';
import { packageFile } from './pack-writer.js';
import type { SuccessMetric } from './success-metrics.js';

interface TenantView {
  id: string;
  name: string;
  tier: string;
}

export interface IndexView {
  tenant: TenantView;
  generatedAt: string;
  keyId: string;
  claims: Claim[];
  artifacts: ManifestArtifact[];
  /** Said when the PDF could not be made. */
  pdfNote: string | null;
}

export interface PlanView {
  tenant: TenantView;
  generatedAt: string;
  week: string;
  plan: readonly PlanWeek[];
  checklist: ReadonlyArray<ChecklistItem & { statusClass: string }>;
  reportLinks: PackLink[];
  metrics: ReadonlyArray<Omit<SuccessMetric, 'met'> & { met: string }>;
  exitCriteria: readonly string[];
}

export interface PostureRenderer {
  index(view: IndexView): string;
  plan(view: PlanView): string;
}

/**
 * @example
 * const render = createPostureRenderer();
 * await writeFile('index.html', render.index(view));
 */
export function createPostureRenderer(
  dir: string = packageFile('templates/posture'),
): PostureRenderer {
  const hbs = Handlebars.create();
  const options = { strict: true, noEscape: false, knownHelpersOnly: true };
  const compile = (name: string) => hbs.compile(readFileSync(join(dir, name), 'utf8'), options);
  const css = readFileSync(join(dir, 'posture.css'), 'utf8');
  const index = compile('index.hbs');
  const plan = compile('plan.hbs');
  return {
    index: (view) => index({ ...view, css }),
    plan: (view) => plan({ ...view, css }),
  };
}
