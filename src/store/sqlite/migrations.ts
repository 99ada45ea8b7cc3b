import type { Database } from 'better-sqlite3'
import { ServiceError } from '../../errors.js'
import { migration0001 } from './migrations/0001-init.js'
import { migration0002 } from './migrations/0002-webhook-routes.js'
import { migration0003 } from './migrations/0003-claim-lanes.js'
import { migration0004 } from './migrations/0004-cli-sessions.js'
import { migration0005 } from './migrations/0005-endpoint-health.js'
import { migration0006 } from './migrations/0006-secrets-retention.js'
import { migration0007 } from './migrations/0007-subscription-options.js'
import { migration0008 } from './migrations/0008-search-stats-portal.js'
import { migration0009 } from './migrations/0009-ingest-cost.js'
import { migration0010 } from './migrations/0010-order-places.js'
import { migration0011 } from './migrations/0011-routes-version.js'
import { migration0012 } from './migrations/0012-status-listings.js'
import { migration0013 } from './migrations/0013-scheduled-lanes.js'

/** One schema step. Versions are shared with the PostgreSQL driver (same numbers, same meaning). */
export interface Migration {
  version: number
  name: string
  sql: string
  /** A step SQL alone cannot say generically (e.g. rebuilding a table as it is now); runs after `sql`, in the same transaction. */
  run?: (db: Database) => void
}

/** Every migration, in the order they apply. */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008, migration0009, migration0010, migration0011, migration0012, migration0013]

/**
 * Applies the migrations the database has not seen yet, each in its own transaction, and records
 * them in `schema_migrations`. `BEGIN IMMEDIATE` takes the write lock before reading the applied
 * versions, so two processes opening a fresh file at once do not both apply the same step.
 * Returns the versions applied now.
 */
export function migrate (db: Database, migrations: readonly Migration[] = MIGRATIONS, now: () => number = Date.now): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
  )`)
  const applied: number[] = []
  const known = new Set(migrations.map((m) => m.version))
  const step = db.transaction((migration: Migration): boolean => {
    const row = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?').get(migration.version)
    if (row !== undefined) return false
    db.exec(migration.sql)
    migration.run?.(db)
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, now())
    return true
  })
  const newest = db.prepare<[], { version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations').get()
  if (newest?.version != null && !known.has(newest.version) && newest.version > Math.max(0, ...known)) {
    // A newer release migrated this file; running old code on it could corrupt it.
    throw new ServiceError('CONFIG_INVALID', `the SQLite database has schema version ${newest.version}, newer than this release knows (${Math.max(0, ...known)})`)
  }
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (step.immediate(migration)) applied.push(migration.version)
  }
  return applied
}
