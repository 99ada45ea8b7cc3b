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
    // 64 MiB of page cache (default 2 MiB): the delivery indexes of a busy queue stay in memory.
    db.pragma('cache_size = -65536')
    migrate(db)
    return db
  } catch (err) {
    db.close()
    throw err
  }
}
