import type { Database } from 'better-sqlite3'
import type { Migration } from '../migrations.js'

const STATUS_CHECK = "CHECK (status IN ('pending', 'succeeded', 'failed'))"
const STATUS_CHECK_PARKED = "CHECK (status IN ('pending', 'succeeded', 'failed', 'parked'))"

function schemaSql (db: Database, type: string, name: string): string {
  const row = db.prepare<[string, string], { sql: string }>('SELECT sql FROM sqlite_master WHERE type = ? AND name = ?').get(type, name)
  if (row === undefined) throw new Error(`migration 0005: no ${type} ${name}`)
  return row.sql
}

/**
 * SQLite cannot change a CHECK constraint in place: `deliveries` is rebuilt with `parked` allowed,
 * from its definition as it is now (so columns and indexes other migrations added are kept,
 * whatever order they ran in), following SQLite's documented procedure. `attempts` references
 * it, so its rows wait in a temporary table meanwhile and it is made again as it was.
 */
function allowParked (db: Database): void {
  const deliveries = schemaSql(db, 'table', 'deliveries')
  if (!deliveries.includes(STATUS_CHECK)) throw new Error('migration 0005: deliveries.status has an unexpected CHECK constraint')
  const attempts = schemaSql(db, 'table', 'attempts')
  const extras = db.prepare<[], { sql: string }>(`SELECT sql FROM sqlite_master
    WHERE tbl_name IN ('deliveries', 'attempts') AND type IN ('index', 'trigger') AND sql IS NOT NULL`).all()
  db.exec(deliveries.replace(STATUS_CHECK, STATUS_CHECK_PARKED).replace(/^CREATE TABLE "?deliveries"?/, 'CREATE TABLE deliveries_0005'))
  db.exec('INSERT INTO deliveries_0005 SELECT * FROM deliveries')
  db.exec('CREATE TEMP TABLE attempts_0005 AS SELECT * FROM attempts')
  db.exec('DROP TABLE attempts')
  db.exec('DROP TABLE deliveries')
  db.exec('ALTER TABLE deliveries_0005 RENAME TO deliveries')
  db.exec(attempts)
  db.exec('INSERT INTO attempts SELECT * FROM temp.attempts_0005')
  db.exec('DROP TABLE temp.attempts_0005')
  for (const { sql } of extras) db.exec(sql)
}

/**
 * 0005: endpoint health (docs/delivery.md, "The life of an endpoint"). The webhook row keeps its
 * health (breaker, failures in a row, auto-disable counters), why and when it was disabled, and
 * an optional retry schedule. Deliveries may be `parked`, `held` by an open breaker, or sent
 * whatever the breaker (`skip_breaker`). Same number as the PostgreSQL migration 0005.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'endpoint-health',
  sql: `
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT CHECK (disabled_reason IN ('manual', 'gone', 'failing'));
ALTER TABLE webhooks ADD COLUMN disabled_at INTEGER;
ALTER TABLE webhooks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN breaker TEXT NOT NULL DEFAULT 'closed' CHECK (breaker IN ('closed', 'open', 'half_open'));
ALTER TABLE webhooks ADD COLUMN breaker_probe_at INTEGER;
ALTER TABLE webhooks ADD COLUMN breaker_cooldown_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN last_success_at INTEGER;
ALTER TABLE webhooks ADD COLUMN failed_deliveries_in_row INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
ALTER TABLE webhooks ADD COLUMN retry_schedule_ms TEXT;  -- JSON array of ms, or NULL
UPDATE webhooks SET disabled_reason = 'manual', disabled_at = updated_at WHERE enabled = 0;

ALTER TABLE deliveries ADD COLUMN held INTEGER NOT NULL DEFAULT 0;          -- 1: waiting for an open breaker's probe
ALTER TABLE deliveries ADD COLUMN skip_breaker INTEGER NOT NULL DEFAULT 0;  -- 1: a test send or a manual retry
`,
  run: allowParked,
}
