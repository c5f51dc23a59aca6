#!/usr/bin/env node
// The `warden` command. Runs the TypeScript sources through tsx's loader (no build step needed);
// `npm run build` output in dist/ is used instead when present.
import { existsSync } from 'node:fs';

const built = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
