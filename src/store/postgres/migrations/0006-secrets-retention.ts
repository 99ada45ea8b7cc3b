/**
 * 0006: secret rotation with overlap (the secret before the last rotation and when it stops
 * signing), erasure records (docs/privacy.md), and the indexes retention walks (docs/storage.md,
 * "Retention"): settled deliveries by settle time, events by creation time.
 * Same number as the SQLite migration 0006.
 */
export const migration0006 = {
  version: 6,
  name: 'secrets-retention',
  sql: `
ALTER TABLE webhooks ADD COLUMN previous_secret text;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at bigint;

CREATE TABLE erasures (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  contact_id text,
  job_id text,
  events_matched integer NOT NULL,
  created_at bigint NOT NULL
);

CREATE INDEX deliveries_settled ON deliveries (updated_at) WHERE status IN ('succeeded', 'failed');
CREATE INDEX events_by_created ON events (created_at, workspace_id, id);
`,
}
