import type { Migration } from '../migrations.js'

/**
 * The columns whose change moves the routes version: every column of `webhooks` as of 0011 but
 * ROUTES_VOLATILE_COLUMNS (src/store/routes-version.ts). SQLite's trigger must name them (PostgreSQL's compares the whole row):
 * test/store.routes-version.test.ts fails when `webhooks` gains a column that is in neither list.
 */
export const ROUTES_VERSIONED_COLUMNS = [
  'id', 'workspace_id', 'url', 'events', 'name', 'signing_method', 'secret', 'scope_type', 'persona_id',
  'enabled', 'job_id', 'timeout_ms', 'max_retries', 'backoff_ms', 'created_at', 'deleted_at',
  'disabled_reason', 'disabled_at', 'breaker', 'breaker_probe_at', 'breaker_cooldown_ms',
  'retry_schedule_ms', 'previous_secret', 'previous_secret_expires_at', 'ordering', 'payload_filter',
  'custom_headers', 'rate_limit_per_s',
] as const

const BUMP = (row: 'NEW' | 'OLD'): string => `
  INSERT INTO routes_versions (workspace_id, version) VALUES (${row}.workspace_id, 1)
  ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1;`

/**
 * 0011: a version per workspace of what routing reads (read with Store.routingState; docs/storage.md,
 * "Routing cache"), so that a process can keep the routing candidates of an event type in memory
 * and check them with one key lookup per event instead of reading the webhooks again. Triggers
 * move it in the statement that changes a subscription, so no write path and no process can
 * forget it. Inline webhooks (`job_id` set) leave it: routing never reads them from the cache,
 * and a workspace creating calls with inline webhooks would otherwise invalidate it per call.
 * Same number and meaning as the PostgreSQL migration 0011.
 */
export const migration0011: Migration = {
  version: 11,
  name: 'routes-version',
  sql: `
CREATE TABLE routes_versions (
  workspace_id  TEXT PRIMARY KEY,
  version       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER routes_version_on_insert AFTER INSERT ON webhooks
WHEN NEW.job_id IS NULL
BEGIN${BUMP('NEW')}
END;

CREATE TRIGGER routes_version_on_update AFTER UPDATE ON webhooks
WHEN (OLD.job_id IS NULL OR NEW.job_id IS NULL) AND (${ROUTES_VERSIONED_COLUMNS.map((column) => `OLD.${column} IS NOT NEW.${column}`).join(' OR ')})
BEGIN${BUMP('NEW')}
END;

CREATE TRIGGER routes_version_on_delete AFTER DELETE ON webhooks
WHEN OLD.job_id IS NULL
BEGIN${BUMP('OLD')}
END;
`,
}
