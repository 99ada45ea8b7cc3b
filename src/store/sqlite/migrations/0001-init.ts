import type { Migration } from '../migrations.js'

/**
 * The first schema. Times are INTEGER Unix milliseconds; booleans are 0/1; lists are JSON text.
 * Kept as a string constant (not a .sql file) because the build (tsc) copies only .ts output to
 * dist/; the statement text is plain SQLite SQL all the same.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'init',
  sql: `
CREATE TABLE workspaces (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT,            -- NULL for an admin key
  hash          TEXT NOT NULL UNIQUE,
  prefix        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);

-- Subscriptions (job_id NULL) and inline webhooks of a call (job_id set). A deleted webhook keeps
-- its row (deleted_at set) so that its deliveries stay readable and keep their foreign key.
-- last_attempt_at / last_error / last_error_at are kept up to date by completeAttempts so that
-- webhook listings do not scan every delivery.
CREATE TABLE webhooks (
  id               TEXT PRIMARY KEY,
  workspace_id     TEXT NOT NULL,
  url              TEXT NOT NULL,
  events           TEXT NOT NULL,  -- JSON array of event types or "*"
  name             TEXT,
  signing_method   TEXT NOT NULL,
  secret           TEXT,
  scope_type       TEXT NOT NULL CHECK (scope_type IN ('global', 'persona')),
  persona_id       TEXT,
  enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  job_id           TEXT,
  timeout_ms       INTEGER NOT NULL,
  max_retries      INTEGER NOT NULL,
  backoff_ms       INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  deleted_at       INTEGER,
  last_attempt_at  INTEGER,
  last_error       TEXT,
  last_error_at    INTEGER
);
CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, created_at, id)
  WHERE deleted_at IS NULL AND job_id IS NULL;
CREATE INDEX webhooks_by_job ON webhooks (workspace_id, job_id, created_at, id)
  WHERE job_id IS NOT NULL;

CREATE TABLE calls (
  workspace_id         TEXT NOT NULL,
  job_id               TEXT NOT NULL,
  persona_id           TEXT,
  has_inline_webhooks  INTEGER NOT NULL CHECK (has_inline_webhooks IN (0, 1)),
  created_at           INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, job_id)
) WITHOUT ROWID;

-- The same event id in two workspaces is two events.
CREATE TABLE events (
  workspace_id  TEXT NOT NULL,
  id            TEXT NOT NULL,
  type          TEXT NOT NULL,
  body          TEXT NOT NULL,  -- the envelope exactly as sent (docs/wire-format.md)
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

-- One row per event × webhook. While an attempt runs the delivery stays 'pending' and holds a
-- lease (token, owner, expiry); an expired lease counts as free.
CREATE TABLE deliveries (
  id                TEXT PRIMARY KEY,  -- dlv_<ULID>: time-sortable, so id order is creation order
  workspace_id      TEXT NOT NULL,
  event_id          TEXT NOT NULL,
  event_type        TEXT NOT NULL,
  webhook_id        TEXT NOT NULL REFERENCES webhooks (id),
  url               TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempt_count     INTEGER NOT NULL DEFAULT 0,
  max_attempts      INTEGER NOT NULL,
  next_attempt_at   INTEGER,
  last_error        TEXT,
  last_status_code  INTEGER,
  lease_token       TEXT,
  lease_owner       TEXT,
  lease_expires_at  INTEGER,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  FOREIGN KEY (workspace_id, event_id) REFERENCES events (workspace_id, id)
);
-- Claiming: only pending rows are in this index, in due order.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
-- nextDueAt: the few rows with a lease, by expiry.
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
-- Listing, newest first.
CREATE INDEX deliveries_by_workspace ON deliveries (workspace_id, id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries (workspace_id, event_id);
-- Webhook stats (counts by status) and queue stats (failed since).
CREATE INDEX deliveries_by_webhook_status ON deliveries (webhook_id, status);
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE status = 'failed';

CREATE TABLE attempts (
  id                TEXT PRIMARY KEY,
  delivery_id       TEXT NOT NULL REFERENCES deliveries (id),
  attempt           INTEGER NOT NULL,
  started_at        INTEGER NOT NULL,
  duration_ms       INTEGER NOT NULL,
  status_code       INTEGER,
  error             TEXT,
  response_excerpt  TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, attempt);
`,
}
