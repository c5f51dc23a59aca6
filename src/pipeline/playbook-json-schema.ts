/**
 * Playbook-json-schema: the JSON Schema of playbook files, generated from the zod schema (what
 * editors use to complete and check playbook YAML). `npm run schema` writes docs/playbook.schema.json.
 */
import { z } from 'zod';
import { playbookSchema } from './playbook-schema.js';

export function playbookJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(playbookSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://warden.dev/schemas/playbook.schema.json',
    title: 'Warden playbook (warden/v1)',
    description:
      'A Warden playbook. Values may use {{ path.to.field }} lookups (trigger, alert, event, schedule, params). Cron patterns, regex matchers and step inputs are checked further by `warden playbook validate`.',
  };
}

export const playbookSchemaFile = 'docs/playbook.schema.json';

export const playbookSchemaText = () => `${JSON.stringify(playbookJsonSchema(), null, 2)}\n`;
