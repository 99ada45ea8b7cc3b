import { createBatchGather } from '../batch-gather.js'
import type { BatchGather } from '../batch-gather.js'

/** What one queued call came to inside a shared transaction. */
export type Outcome<O> = { ok: true, value: O } | { ok: false, error: unknown }

/**
 * Group commit for calls that each need their own transaction: calls made in the same turn of
 * the event loop (or within the gather: batch-gather.ts) are queued and run together by
 * `runBatch` in ONE write transaction (one fsync);
 * `runBatch` answers an outcome per call, so that one failing call leaves the others intact
 * (record-event.ts: the batch runs again with a savepoint per call only when one failed). A call's
 * promise settles only after the shared transaction committed and `durable` (when given: the WAL
 * fsync off the main thread, wal-sync.ts) resolved, so a resolved call is durable. If the commit
 * or the sync fails, every call of the batch rejects with that error. `afterCommit` runs once the
 * batch is durable, before its calls settle; it must not throw, and if it does the calls settle
 * all the same (they committed) and its error goes nowhere.
 *
 * While a batch's sync runs, the calls that arrive wait for it to end before they commit: they
 * could not be acknowledged before the next sync anyway, and committing them together then
 * writes each page they share (a table's last page, an index's) once instead of once per turn
 * of the event loop. Under load batches grow with the sync's duration, and the WAL frames (bytes
 * written, then copied by checkpoints) per event shrink (docs/performance.md, "Ninth round").
 */
export function createGroupCommit<I, O> (
  runBatch: (inputs: readonly I[]) => Array<Outcome<O>>,
  afterCommit: (inputs: readonly I[], outcomes: ReadonlyArray<Outcome<O>>) => void = () => {},
  durable?: () => Promise<void>,
  gather: BatchGather = createBatchGather(0),
): { submit: (input: I) => Promise<O>, flush: () => void } {
  let queue: Array<{ input: I, resolve: (value: O) => void, reject: (error: unknown) => void }> = []
  // Batches committed and waiting for their sync (more than one only after a flush during a sync).
  let syncing = 0

  function settle (batch: typeof queue, outcomes: Array<Outcome<O>>): void {
    try {
      afterCommit(batch.map((item) => item.input), outcomes)
    } catch {
      // Nothing to undo: the batch is committed and durable, and its callers must hear so.
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]
      if (outcome === undefined) item.reject(new Error('group commit lost a result'))
      else if (outcome.ok) item.resolve(outcome.value)
      else item.reject(outcome.error)
    })
  }

  function commit (): void {
    const batch = queue
    if (batch.length === 0) return
    queue = []
    gather.ran(batch.length)
    let outcomes: Array<Outcome<O>>
    try {
      outcomes = runBatch(batch.map((item) => item.input))
    } catch (error) {
      for (const item of batch) item.reject(error)
      return
    }
    if (durable === undefined) {
      settle(batch, outcomes)
      return
    }
    syncing++
    durable().then(() => { settle(batch, outcomes) }, (error: unknown) => {
      for (const item of batch) item.reject(error)
    }).finally(() => {
      syncing--
      if (syncing === 0) commit()
    })
  }

  return {
    submit: (input) => new Promise<O>((resolve, reject) => {
      // setImmediate, not a microtask: requests parsed in the same I/O phase join one batch
      // (later, with a gather: batch-gather.ts). While a sync runs, the batch commits when it
      // ends (above).
      if (queue.length === 0) {
        // Only for this queue: should a sync's end commit it first, a later queue has its own run.
        const mine = queue
        gather.schedule(() => { if (syncing === 0 && queue === mine) commit() })
      }
      queue.push({ input, resolve, reject })
    }),
    /** Commits what is queued now, whatever is syncing (before closing). */
    flush: commit,
  }
}
