#!/usr/bin/env node
// The `warden` command: runs the TypeScript sources through tsx's loader, so no build step is needed.
// Deployments may run the compiled output instead: `npm run build && node dist/src/cli/main.js`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
