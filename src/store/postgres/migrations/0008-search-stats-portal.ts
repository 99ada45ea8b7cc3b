/**
 * 0008: delivery search, per-webhook charts and portal sessions (docs/storage.md, "Delivery
 * search"). Same number and meaning as the SQLite migration 0008: expression indexes on the ids
 * inside the stored envelope, listing indexes per filter, attempts.webhook_id with
 * (webhook_id, started_at) for the charts, and portal_sessions (token sha256 only).
 */
// jsonb cannot hold \u0000, which a stored body may (it is kept byte for byte): such an event is
// left out of these indexes (not findable by job or contact) instead of failing its insert.
const NO_NUL = "strpos(body, '\\u0000') = 0"
export const JOB_ID_SQL = `CASE WHEN ${NO_NUL} THEN coalesce((body::jsonb) -> 'data' ->> 'job_id', (body::jsonb) -> 'data' -> 'call' ->> 'id') END`
export const CONTACT_ID_SQL = `CASE WHEN ${NO_NUL} THEN coalesce((body::jsonb) -> 'data' ->> 'contact_id', (body::jsonb) -> 'data' -> 'contact' ->> 'id') END`

export const migration0008 = {
  version: 8,
  name: 'search-stats-portal',
  sql: `
CREATE INDEX events_job ON events (workspace_id, (${JOB_ID_SQL}));
CREATE INDEX events_contact ON events (workspace_id, (${CONTACT_ID_SQL}));
CREATE INDEX deliveries_event_id ON deliveries (workspace_id, event_id, id);
DROP INDEX deliveries_event;
CREATE INDEX deliveries_workspace_status ON deliveries (workspace_id, status, id);
CREATE INDEX deliveries_workspace_type ON deliveries (workspace_id, event_type, id);
CREATE INDEX deliveries_webhook_status ON deliveries (webhook_id, status, id);
CREATE INDEX deliveries_failed_workspace ON deliveries (workspace_id, updated_at) WHERE status = 'failed';

ALTER TABLE attempts ADD COLUMN webhook_id text;
UPDATE attempts a SET webhook_id = d.webhook_id FROM deliveries d WHERE d.id = a.delivery_id;
CREATE INDEX attempts_webhook_time ON attempts (webhook_id, started_at);

CREATE TABLE portal_sessions (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  hash text NOT NULL UNIQUE,
  persona_id text,
  read_only boolean NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX portal_sessions_workspace ON portal_sessions (workspace_id, created_at);
`,
} as const
