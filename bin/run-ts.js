#!/usr/bin/env node
// Runs a TypeScript file through tsx's loader: `node bin/run-ts.js <file.ts> [args…]`.
// The script sees itself as process.argv[1] and the remaining arguments after it.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const [, , file, ...args] = process.argv;
if (!file) {
  process.stderr.write('usage: node bin/run-ts.js <file.ts> [args…]\n');
  process.exit(2);
}
register();
const script = resolve(file);
process.argv = [process.argv[0] ?? process.execPath, script, ...args];
await import(pathToFileURL(script).href);
