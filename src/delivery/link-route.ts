/**
 * `GET /r/:token`: serves the report a secure link names. An altered or unknown token is 404, an
 * expired one 410; every successful access is a `report.accessed` receipt (the reader's address is
 * a private field). The token itself is never logged: request logs show `/r/…`.
 */

import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import type { Knex } from 'knex';
import { WardenError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { getReport } from '../storage/reports.js';
import { openLink } from './link.js';
import { reportFileName } from './report-targets.js';

export function linkRoutes(deps: { knex: Knex; ledger: Ledger; now?: () => Date }): Hono {
  return new Hono().get('/r/:token', async (c) => {
    const opened = await openLink(deps.knex, c.req.param('token'), deps.now?.() ?? new Date());
    if (opened.status === 'not_found') {
      throw new WardenError('not_found', 'No such report link.');
    }
    if (opened.status === 'expired') {
      throw new WardenError('gone', 'This report link has expired. Ask for a new one.');
    }
    const { link } = opened;
    const report = await getReport(deps.knex, link.tenant, link.reportId);
    if (!report) throw new WardenError('not_found', 'No such report link.');
    let address: string | null = null;
    try {
      address = getConnInfo(c).remote.address ?? null;
    } catch {
      address = null; // app.request() in tests has no socket
    }
    await deps.ledger.append(link.tenant, {
      kind: 'report.accessed',
      data: { report: report.id, link: link.id, week: report.week, sha256: report.sha256 },
      private: { address },
    });
    return c.body(new Uint8Array(report.body), 200, {
      'content-type': report.content_type,
      'content-disposition': `inline; filename="${reportFileName(report)}"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    });
  });
}
