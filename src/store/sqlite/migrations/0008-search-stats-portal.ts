import type { Migration } from '../migrations.js'

/**
 * 0008: delivery search, per-webhook charts and portal sessions (docs/storage.md, "Delivery
 * search"). Same number as the PostgreSQL migration 0008.
 *
 * - events_by_job / events_by_contact: expression indexes on the ids inside the stored envelope,
 *   so `?job_id=` and `?contact_id=` find their few events without reading bodies (and stay right
 *   when an erasure rewrites the body: it keeps the ids).
 * - Listing indexes for each filter a page combines with "newest first" (status, event type, a
 *   webhook's status), and a workspace's recent failures for the health strip.
 * - attempts.webhook_id with (webhook_id, started_at): a chart reads one window of one webhook.
 * - portal_sessions: only the token's sha256 is stored.
 */
export const JOB_ID_SQL = "coalesce(json_extract(body, '$.data.job_id'), json_extract(body, '$.data.call.id'))"
export const CONTACT_ID_SQL = "coalesce(json_extract(body, '$.data.contact_id'), json_extract(body, '$.data.contact.id'))"

export const migration0008: Migration = {
  version: 8,
  name: 'search-stats-portal',
  sql: `
CREATE INDEX events_by_job ON events (workspace_id, ${JOB_ID_SQL});
CREATE INDEX events_by_contact ON events (workspace_id, ${CONTACT_ID_SQL});
-- (workspace_id, event_id, id) replaces (workspace_id, event_id): an event's deliveries come newest
-- first from the index, so the planner never prefers walking the workspace to avoid a sort.
CREATE INDEX deliveries_by_event_id ON deliveries (workspace_id, event_id, id);
DROP INDEX deliveries_by_event;
CREATE INDEX deliveries_by_workspace_status ON deliveries (workspace_id, status, id);
CREATE INDEX deliveries_by_workspace_type ON deliveries (workspace_id, event_type, id);
-- (webhook_id, status, id) serves the webhook counts too: the older (webhook_id, status) goes.
CREATE INDEX deliveries_by_webhook_status_id ON deliveries (webhook_id, status, id);
DROP INDEX deliveries_by_webhook_status;
CREATE INDEX deliveries_failed_by_workspace ON deliveries (workspace_id, updated_at) WHERE status = 'failed';

ALTER TABLE attempts ADD COLUMN webhook_id TEXT;
UPDATE attempts SET webhook_id = (SELECT d.webhook_id FROM deliveries d WHERE d.id = attempts.delivery_id);
CREATE INDEX attempts_by_webhook_time ON attempts (webhook_id, started_at);

CREATE TABLE portal_sessions (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  hash          TEXT NOT NULL UNIQUE,
  persona_id    TEXT,
  read_only     INTEGER NOT NULL CHECK (read_only IN (0, 1)),
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);
CREATE INDEX portal_sessions_by_workspace ON portal_sessions (workspace_id, created_at);
`,
}
