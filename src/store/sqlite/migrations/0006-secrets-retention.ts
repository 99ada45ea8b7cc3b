import type { Migration } from '../migrations.js'

/**
 * 0006: secret rotation with overlap (the secret before the last rotation and when it stops
 * signing), erasure records (docs/privacy.md), and the indexes retention walks (docs/storage.md,
 * "Retention"): settled deliveries by settle time, events by creation time.
 * Same number as the PostgreSQL migration 0006.
 */
export const migration0006: Migration = {
  version: 6,
  name: 'secrets-retention',
  sql: `
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at INTEGER;

CREATE TABLE erasures (
  id              TEXT PRIMARY KEY,
  workspace_id    TEXT NOT NULL,
  contact_id      TEXT,
  job_id          TEXT,
  events_matched  INTEGER NOT NULL,
  created_at      INTEGER NOT NULL
);

CREATE INDEX deliveries_settled ON deliveries (updated_at) WHERE status IN ('succeeded', 'failed');
CREATE INDEX events_by_created ON events (created_at, workspace_id, id);
`,
}
