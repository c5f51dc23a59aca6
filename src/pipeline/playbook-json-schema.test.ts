import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { playbookSchemaFile, playbookSchemaText } from './playbook-json-schema.js';

describe('playbook JSON Schema', () => {
  it('matches the committed docs/playbook.schema.json (run `npm run schema` after changing the zod schema)', () => {
    const committed = readFileSync(
      resolve(import.meta.dirname, '../..', playbookSchemaFile),
      'utf8',
    );
    expect(committed).toBe(playbookSchemaText());
  });

  it('describes the required top-level fields', () => {
    const schema = JSON.parse(playbookSchemaText()) as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(schema.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(Object.keys(schema.properties)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });
});
