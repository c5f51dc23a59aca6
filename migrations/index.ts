/** The ordered list of migrations; add each new file here. */
import type { Knex } from 'knex';
import * as foundation from './0001_foundation.js';
import * as triggers from './0002_triggers.js';
import * as runs from './0003_runs.js';
import * as guardrails from './0004_guardrails.js';
import * as chat from './0005_chat.js';
import * as anchoring from './0006_anchoring.js';
import * as logNoTruncate from './0007_log_no_truncate.js';
import * as disclosures from './0008_disclosures.js';
import * as reports from './0009_reports.js';
import * as observability from './0010_observability.js';
import * as retention from './0011_retention.js';

export const migrations: Record<string, Knex.Migration> = {
  '0001_foundation': foundation,
  '0002_triggers': triggers,
  '0003_runs': runs,
  '0004_guardrails': guardrails,
  '0005_chat': chat,
  '0006_anchoring': anchoring,
  '0007_log_no_truncate': logNoTruncate,
  '0008_disclosures': disclosures,
  '0009_reports': reports,
  '0010_observability': observability,
  '0011_retention': retention,
};
