/**
 * Scale-out config: the one `warden.yaml` every process of the scale-out test reads — a tenant with
 * three playbooks whose single step (`http.request`) calls the recording target: `scale-load` and
 * `scale-budget` on alerts, `scale-cron` on a schedule with seconds.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ScaleConfigOptions {
  tenant: string;
  /** The target's `host:port`. */
  targetHost: string;
  /** `budgets.actionsPerHour` of `scale-budget`. */
  actionsPerHour: number;
  /** `scale-cron` fires every this many seconds. */
  cronSeconds: number;
  /** Name of the environment variable holding the tenant's ingest token. */
  tokenEnv: string;
}

function playbook(name: string, on: string, url: string, body: string, spec = ''): string {
  return `apiVersion: warden/v1
kind: Playbook
metadata: { name: ${name}, owner: team-scale }
spec:
  on:
    - ${on}
${spec}  steps:
    - id: call
      uses: http.request
      with: { url: "${url}", body: ${body} }
`;
}

/**
 * Writes `<dir>/warden.yaml` and `<dir>/playbooks/`; returns the config's path. The ingest rate
 * limit is raised so that the load measures Warden, not the limiter; reports are off.
 * @example
 * const config = await writeScaleConfig(dir, { tenant: 'scale', targetHost, actionsPerHour: 5,
 *   cronSeconds: 2, tokenEnv: 'SCALE_INGEST_TOKEN' });
 */
export async function writeScaleConfig(dir: string, o: ScaleConfigOptions): Promise<string> {
  const books = join(dir, 'playbooks');
  await mkdir(books, { recursive: true });
  const url = (path: string) => `http://${o.targetHost}/${path}`;
  const files = {
    'scale-load.yaml': playbook(
      'scale-load',
      'alert: { source: alertmanager, match: { alertname: ScaleLoad } }',
      url('load'),
      '{ n: "{{ alert.labels.n }}" }',
    ),
    'scale-budget.yaml': playbook(
      'scale-budget',
      'alert: { source: alertmanager, match: { alertname: ScaleBudget } }',
      url('budgeted'),
      '{ n: "{{ alert.labels.n }}" }',
      `  budgets: { actionsPerHour: ${o.actionsPerHour} }\n`,
    ),
    'scale-cron.yaml': playbook(
      'scale-cron',
      `cron: "*/${o.cronSeconds} * * * * *"`,
      url('cron'),
      '{ tick: "{{ schedule.scheduledAt }}" }',
    ),
  };
  for (const [file, text] of Object.entries(files)) await writeFile(join(books, file), text);
  const config = join(dir, 'warden.yaml');
  await writeFile(
    config,
    `tenants:
  - id: ${o.tenant}
    tier: enterprise
    playbooks: ./playbooks
    tokens: [{ name: alertmanager, scope: ingest, value: env:${o.tokenEnv} }]
    ingest: { rateLimit: { perSecond: 100000, burst: 100000 } }
    plugins: { http: { allowedHosts: ["${o.targetHost}"] } }
    reports: { enabled: false }
`,
  );
  return config;
}
