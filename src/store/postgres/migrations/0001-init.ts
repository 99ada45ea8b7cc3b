/**
 * 0001: the whole first schema. Kept as a string so `tsc` ships it in dist/ (it copies no .sql).
 * Times are bigint Unix milliseconds; payloads are text (the event body is kept byte for byte,
 * docs/wire-format.md: retries resend the same bytes). Same number as the SQLite migration 0001.
 */
export const migration0001 = {
  version: 1,
  name: 'init',
  sql: `
CREATE TABLE workspaces (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  workspace_id text REFERENCES workspaces (id) ON DELETE CASCADE,
  hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  created_at bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE webhooks (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  url text NOT NULL,
  events jsonb NOT NULL,
  name text,
  signing_method text NOT NULL,
  secret text,
  scope_type text NOT NULL,
  persona_id text,
  enabled boolean NOT NULL,
  job_id text,
  timeout_ms integer NOT NULL,
  max_retries integer NOT NULL,
  backoff_ms integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX webhooks_workspace ON webhooks (workspace_id, created_at, id) WHERE job_id IS NULL;
CREATE INDEX webhooks_job ON webhooks (workspace_id, job_id) WHERE job_id IS NOT NULL;

CREATE TABLE calls (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  job_id text NOT NULL,
  persona_id text,
  has_inline_webhooks boolean NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, job_id)
);

CREATE TABLE events (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id text NOT NULL,
  type text NOT NULL,
  body text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

-- No foreign key to webhooks: a delivery outlives its webhook (it ends failed, "webhook deleted",
-- and stays in the log).
CREATE TABLE deliveries (
  id text PRIMARY KEY,
  workspace_id text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  webhook_id text NOT NULL,
  inline boolean NOT NULL,
  url text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempt_count integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  next_attempt_at bigint,
  last_error text,
  last_status_code integer,
  lease_token text,
  lease_owner text,
  lease_expires_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  FOREIGN KEY (workspace_id, event_id) REFERENCES events (workspace_id, id) ON DELETE CASCADE
);
-- The queue: only pending rows, in due order (claimDue, nextDueAt, queueStats).
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_workspace ON deliveries (workspace_id, id);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_event ON deliveries (workspace_id, event_id);
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE status = 'failed';

CREATE TABLE attempts (
  id text PRIMARY KEY,
  delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  error text,
  response_excerpt text
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt);
`,
} as const
