/** OpenAPI: routers whose zod schemas validate requests and also produce `/api/v1/openapi.json`. */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { WardenError } from '../errors.js';

export { createRoute, z } from '@hono/zod-openapi';

/** A sub-app whose validation failures become 422 `invalid` errors listing each problem. */
export function createRouter<E extends Env>() {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (result.success) return;
      const problems = result.error.issues.map(
        (i) => `${i.path.join('.') || '(body)'}: ${i.message}`,
      );
      throw new WardenError('invalid', `Invalid request: ${problems.join('; ')}.`, {
        details: problems,
      });
    },
  });
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'not_found' }),
      message: z.string().openapi({ example: 'No receipt with that id in this tenant.' }),
    }),
  })
  .openapi('Error');

export const errorResponses = {
  401: {
    description: 'Missing, invalid or revoked token',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  403: {
    description: 'The token lacks the scope',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  422: {
    description: 'Invalid parameters',
    content: { 'application/json': { schema: ErrorSchema } },
  },
} as const;

export const notFound = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

export const bearerSecurity = [{ bearer: [] as string[] }];
