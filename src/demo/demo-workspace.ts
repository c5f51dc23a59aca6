/**
 * Demo workspace: the demo config (examples/warden.yaml) and its playbooks copied into a folder,
 * with the demo target's address (127.0.0.1:3101) rewritten to wherever the target listens, and the
 * demo bucket created beside them — so a test or a script can run the whole demo on free ports,
 * side by side with a developer's own `npm start`.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config.js';

/** The fixed, loopback-only tokens of examples/warden.yaml's tenant acme. */
export const demoTokens = {
  admin: 'wdn_demo_acme_admin_4f1c9e27b0d8a356',
  read: 'wdn_demo_acme_read_8b2e61d4c09f7a13',
  ingest: 'wdn_demo_acme_ingest_d37a0c5e92b14f68',
} as const;

/** The address the example config and playbooks name for the demo target. */
export const demoTargetHost = '127.0.0.1:3101';

/** Writes `<dir>/warden.yaml`, `<dir>/playbooks/…` and `<dir>/bucket/`; returns the config path. */
export function prepareDemoWorkspace(dir: string, targetHost: string): string {
  const rewrite = (text: string) => text.replaceAll(demoTargetHost, targetHost);
  const examples = join(packageRoot, 'examples');
  cpSync(join(examples, 'playbooks'), join(dir, 'playbooks'), { recursive: true });
  for (const tenant of readdirSync(join(dir, 'playbooks'))) {
    for (const file of readdirSync(join(dir, 'playbooks', tenant))) {
      const path = join(dir, 'playbooks', tenant, file);
      writeFileSync(path, rewrite(readFileSync(path, 'utf8')));
    }
  }
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(configFile, rewrite(readFileSync(join(examples, 'warden.yaml'), 'utf8')));
  mkdirSync(join(dir, 'bucket'), { recursive: true });
  return configFile;
}
