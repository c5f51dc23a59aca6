/**
 * Playbook-files: reads a folder of playbook YAML files, validates each against the schema and
 * reports every problem with its file and path. Each playbook carries the SHA-256 digest of its file
 * bytes: a changed file is a new version.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { WardenError } from '../errors.js';
import { type Playbook, playbookSchema } from './playbook-schema.js';

export interface LoadedPlaybook {
  file: string;
  /** `sha256:<hex>` of the file's bytes. */
  digest: string;
  playbook: Playbook;
}

export interface PlaybookDirectory {
  playbooks: LoadedPlaybook[];
  /** One line per problem: `<file>: <path>: <message>`. Empty when every file is valid. */
  problems: string[];
}

const isPlaybookFile = (name: string) => /\.ya?ml$/i.test(name) && !name.startsWith('.');

/** Validates one file's text; returns the playbook or the problems. */
export function parsePlaybook(
  text: string,
  file: string,
): { playbook: Playbook; digest: string } | { problems: string[] } {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => `${file}: not valid YAML: ${e.message.split('\n')[0]}`),
    };
  }
  const parsed = playbookSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map(
        (i) => `${file}: ${i.path.map(String).join('.') || '(document)'}: ${i.message}`,
      ),
    };
  }
  const digest = `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
  return { playbook: parsed.data, digest };
}

/**
 * @example
 * const { playbooks, problems } = await loadPlaybookDirectory('./playbooks/acme');
 */
export async function loadPlaybookDirectory(dir: string): Promise<PlaybookDirectory> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })).filter((n) => isPlaybookFile(n)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      playbooks: [],
      problems: [`${dir}: cannot read the playbook folder (${code ?? err})`],
    };
  }
  const playbooks: LoadedPlaybook[] = [];
  const problems: string[] = [];
  const byName = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const shown = relative(process.cwd(), file) || file;
    const result = parsePlaybook(await readFile(file, 'utf8'), shown);
    if ('problems' in result) {
      problems.push(...result.problems);
      continue;
    }
    const other = byName.get(result.playbook.metadata.name);
    if (other) {
      problems.push(
        `${shown}: metadata.name: "${result.playbook.metadata.name}" is also used by ${other}`,
      );
      continue;
    }
    byName.set(result.playbook.metadata.name, shown);
    playbooks.push({ file: shown, ...result });
  }
  return { playbooks, problems };
}

/**
 * Loads the playbook folder of every tenant that names one; throws `config_invalid` listing every
 * problem in every file, so a broken playbook stops start-up rather than silently not running.
 */
export async function loadTenantPlaybooks(
  tenants: ReadonlyArray<{ id: string; playbooks?: string | undefined }>,
): Promise<Map<string, LoadedPlaybook[]>> {
  const byTenant = new Map<string, LoadedPlaybook[]>();
  const problems: string[] = [];
  for (const t of tenants) {
    if (!t.playbooks) continue;
    const dir = await loadPlaybookDirectory(t.playbooks);
    byTenant.set(t.id, dir.playbooks);
    problems.push(...dir.problems.map((p) => `tenant ${t.id}: ${p}`));
  }
  if (problems.length > 0) {
    throw new WardenError(
      'config_invalid',
      `Invalid playbooks; ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix: correct them (check one file with: warden playbook validate <file>).`,
    );
  }
  return byTenant;
}
