/**
 * 0004: `kejue-webhooks listen` sessions (docs/receiving.md, "Local development"). A session's
 * webhook is an ordinary webhook row whose url is `cli://<session id>`; this table says which
 * process (hub) holds the session's connection, so only that process claims its deliveries.
 * Same number as the SQLite migration 0004.
 */
export const migration0004 = {
  version: 4,
  name: 'cli-sessions',
  sql: `
CREATE TABLE cli_sessions (
  id text PRIMARY KEY,
  workspace_id text NOT NULL,
  webhook_id text NOT NULL UNIQUE,
  hub_id text NOT NULL,
  created_at bigint NOT NULL,
  heartbeat_at bigint NOT NULL
);
CREATE INDEX cli_sessions_by_hub ON cli_sessions (hub_id);
`,
}
