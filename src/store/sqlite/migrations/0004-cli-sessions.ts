import type { Migration } from '../migrations.js'

/**
 * 0004: `kejue-webhooks listen` sessions (docs/receiving.md, "Local development"). A session's
 * webhook is an ordinary webhook row whose url is `cli://<session id>`; this table says which
 * process (hub) holds the session's connection, so only that process claims its deliveries.
 * Same number as the PostgreSQL migration 0004.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'cli-sessions',
  sql: `
CREATE TABLE cli_sessions (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  webhook_id    TEXT NOT NULL UNIQUE,
  hub_id        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  heartbeat_at  INTEGER NOT NULL
);
CREATE INDEX cli_sessions_by_hub ON cli_sessions (hub_id);
`,
}
