import type { Database, Statement } from 'better-sqlite3'

/**
 * Runs `fn` (a whole transaction) with synchronous=NORMAL instead of FULL: committed, but not
 * fsynced until the next FULL commit or checkpoint. Only for lease bookkeeping (claim, renew,
 * release) and settlements: a lease or settlement lost in a power cut is the same as an expired
 * lease, so the delivery is simply claimed and attempted again after the restart — exactly the
 * crash-recovery path (at least once, docs/wire-format.md#delivery-policy). A process crash loses neither (WAL).
 * WAL appends frames in order and a later FULL commit fsyncs all of them, so no durable write
 * can depend on a lost lease write. Halves the fsyncs of a claim → send → settle cycle.
 * Event batches use it too, but are made durable before they are acknowledged: wal-sync.ts.
 */
export function withRelaxedSync<T> (db: Database, fn: () => T): T {
  const { relax, restore } = syncPragmas(db)
  relax.run()
  try {
    return fn()
  } finally {
    restore.run()
  }
}

// Prepared once per connection: `db.pragma()` prepares its statement at every call, which cost
// more than the pragma itself around every batch.
const prepared = new WeakMap<Database, { relax: Statement, restore: Statement }>()

function syncPragmas (db: Database): { relax: Statement, restore: Statement } {
  let pair = prepared.get(db)
  if (pair === undefined) {
    pair = { relax: db.prepare('PRAGMA synchronous = NORMAL'), restore: db.prepare('PRAGMA synchronous = FULL') }
    prepared.set(db, pair)
  }
  return pair
}
