import type { Database } from 'better-sqlite3'

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
  // exec, not db.pragma(): the same statement without a statement object and a result read back
  // on each side (1 µs instead of 5 for the pair, around every event batch and settlement).
  db.exec('PRAGMA synchronous = NORMAL')
  try {
    return fn()
  } finally {
    db.exec('PRAGMA synchronous = FULL')
  }
}
