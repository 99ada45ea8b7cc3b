import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Database as SqliteDatabase } from 'better-sqlite3'
import { migrate } from './migrations.js'

export interface OpenDatabaseOptions {
  path: string
  busyTimeoutMs: number
}

/**
 * Opens the file with the pragmas durability depends on, then migrates it.
 * - WAL: readers never block the writer, and a commit is one append to the log.
 * - synchronous=FULL: the WAL is fsynced at every commit, so a transaction that returned is on
 *   disk even if the machine loses power (NORMAL would only survive a process crash). Group
 *   commit in the engine keeps the number of commits, and so of fsyncs, low.
 * - busy_timeout: another connection holding the write lock makes us wait, not fail.
 * - foreign_keys: SQLite leaves them off unless asked, per connection.
 * - secure_delete: deleted and overwritten rows are zeroed in the file, so a secret sealed on
 *   upgrade, an erased transcript or a pruned event leaves no readable copy behind
 *   (docs/privacy.md).
 * - temp_store=MEMORY, once migrated: a savepoint's undo pages (each event of a group commit ran
 *   in its own; now only a batch in which one event failed runs again that way, record-event.ts)
 *   and statement journals stay in memory instead of a temporary file. On a file, every page an
 *   event's savepoint first touched was written there before it changed: ~38 pwrite calls per
 *   event, more than half of an event batch's CPU (94 of 190 µs per event, docs/performance.md
 *   "Sixth round"). Nothing in them is needed after a crash (the
 *   WAL is the durable record). Migrations run before it: a table rebuild's temporary copy may be
 *   as large as the table.
 * Lease writes relax synchronous to NORMAL for their own transaction (see relaxed-sync.ts).
 */
export function openDatabase (options: OpenDatabaseOptions): SqliteDatabase {
  const inMemory = options.path === ':memory:' || options.path === ''
  if (!inMemory) mkdirSync(dirname(options.path), { recursive: true })
  const db = new Database(options.path)
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('secure_delete = ON')
    // 16 MiB of page cache (default 2 MiB): the hot end of every index of a busy queue stays in
    // memory, the rest is read from the OS's page cache. Not more: a write transaction in which a
    // b-tree page split ends by walking the whole cache's hash table (balance_nonroot renumbers
    // pages through the lock page's number, and the cache then "truncates" past it), ~3 % of the
    // event loop with 64 MiB; and each connection's cache counts in RSS (docs/performance.md,
    // "Ninth round").
    db.pragma('cache_size = -16384')
    migrate(db)
    db.pragma('temp_store = MEMORY')
    return db
  } catch (err) {
    db.close()
    throw err
  }
}
