/**
 * `POST /api/v1/posture` (admin): builds the tenant's Provable Posture Pack on the server, exactly as
 * `warden posture` does, and answers every file of it (base64) with the claims and the signing
 * receipt — so a client without access to the database (`warden demo --url`) can write the pack
 * to its own disk and check it offline with MANIFEST.json.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthEnv } from '../http/auth.js';
import { bearerSecurity, createRoute, createRouter, errorResponses, z } from '../http/openapi.js';
import {
  listPackFiles,
  manifestFile,
  manifestReceiptFile,
  sha256Hex,
} from '../posture/manifest.js';
import type { PostureResult } from '../posture/pack.js';

export interface PostureApiDeps {
  /** Builds the tenant's pack into `outDir` (the process's posture service). */
  build(tenant: string, outDir: string): Promise<PostureResult>;
}

const PosturePack = z
  .object({
    tenant: z.string(),
    generatedAt: z.string(),
    receipt: z.object({ id: z.string(), seq: z.number() }),
    claims: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        evidenced: z.boolean(),
        summary: z.string(),
        links: z.array(z.object({ href: z.string(), label: z.string() })),
      }),
    ),
    files: z.array(
      z.object({
        path: z.string(),
        sha256: z.string(),
        size: z.number(),
        contentBase64: z.string(),
      }),
    ),
  })
  .openapi('PosturePack');

const build = createRoute({
  method: 'post',
  path: '/posture',
  summary: "Build the tenant's Provable Posture Pack and evaluation kit (admin; receipted)",
  security: bearerSecurity,
  responses: {
    200: {
      description: 'Every file of the pack, MANIFEST.json and its receipt included',
      content: { 'application/json': { schema: PosturePack } },
    },
    ...errorResponses,
  },
});

export function postureApi(deps: PostureApiDeps) {
  return createRouter<AuthEnv>().openapi(build, async (c) => {
    const tenant = c.get('principal').tenant;
    const dir = await mkdtemp(join(tmpdir(), 'warden-posture-'));
    try {
      const result = await deps.build(tenant, dir);
      const paths = [...(await listPackFiles(dir)), manifestFile, manifestReceiptFile];
      const files = await Promise.all(
        paths.map(async (path) => {
          const bytes = await readFile(join(dir, path));
          return {
            path,
            sha256: sha256Hex(bytes),
            size: bytes.length,
            contentBase64: bytes.toString('base64'),
          };
        }),
      );
      return c.json(
        {
          tenant,
          generatedAt: result.manifest.generatedAt,
          receipt: { id: result.receipt.payload.id, seq: result.receipt.payload.seq },
          claims: result.claims,
          files,
        },
        200,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
