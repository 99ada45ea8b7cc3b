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
  const pragmas = prepared(db)
  pragmas.normal.run()
  try {
    return fn()
  } finally {
    pragmas.full.run()
  }
}

// Prepared once per connection: db.pragma() compiles its statement on every call, twice per
// write transaction here (~2 % of the event loop at 1,000 events/s).
const statements = new WeakMap<Database, { normal: Statement, full: Statement }>()

function prepared (db: Database): { normal: Statement, full: Statement } {
  let pair = statements.get(db)
  if (pair === undefined) {
    pair = { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') }
    statements.set(db, pair)
  }
  return pair
}
