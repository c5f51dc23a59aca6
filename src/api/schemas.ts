/** Schemas shared by the `/api/v1` routes (they appear as components in the OpenAPI document). */
import { z } from '../http/openapi.js';

export const ReceiptSchema = z
  .object({
    payload: z
      .object({
        v: z.literal(1),
        id: z.string(),
        tenant: z.string(),
        seq: z.number().int().positive(),
        kind: z.string(),
        at: z.string(),
        prev: z.string().nullable(),
      })
      .catchall(z.unknown()),
    digest: z.string().openapi({ example: 'sha256:9f86d081884c7d65…' }),
    signature: z.object({ alg: z.literal('Ed25519'), keyId: z.string(), sig: z.string() }),
  })
  .openapi('Receipt');

export const BundleSchema = z
  .object({
    format: z.literal('warden-evidence/v1'),
    tenant: z.string(),
    exportedAt: z.string(),
    range: z.object({ since: z.string().nullable(), until: z.string().nullable() }),
    keys: z.array(z.object({ keyId: z.string(), alg: z.string(), publicKeyPem: z.string() })),
    receipts: z.array(ReceiptSchema),
    proofs: z.array(
      z.object({
        receiptId: z.string(),
        leafIndex: z.number(),
        treeSize: z.number(),
        hashes: z.array(z.string()),
      }),
    ),
    checkpoint: z.string().nullable(),
    consistency: z.object({ checkpoint: z.string(), hashes: z.array(z.string()) }).optional(),
    disclosures: z.array(z.object({ receiptId: z.string(), disclosure: z.string() })),
  })
  .openapi('EvidenceBundle');

export const isoDate = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .openapi({ type: 'string', format: 'date-time', example: '2026-11-01T00:00:00Z' });
