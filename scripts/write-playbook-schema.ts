/** Writes docs/playbook.schema.json from the playbook zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { playbookSchemaFile, playbookSchemaText } from '../src/pipeline/playbook-json-schema.js';

writeFileSync(playbookSchemaFile, playbookSchemaText());
console.log(`wrote ${playbookSchemaFile}`);
