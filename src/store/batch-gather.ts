/**
 * When a group-committed batch of events runs (SQLite's group-commit.ts, PostgreSQL's
 * createRecordEventBatcher): at the next turn of the event loop, so that the requests parsed in
 * one I/O phase join — or, when the previous batch held several calls and ran less than
 * `gatherMs` ago, `gatherMs` after it. A commit costs about as much for one event as for
 * several (each b-tree's last page is written once, one WAL sync, one wake-up of the sender
 * thread), and at a moderate rate
 * (1,000 events/s) batches would otherwise hold one or two events each: gathering for 4 ms there
 * cuts the service's CPU per event by 12–24 %, for 1–4 ms more latency (docs/performance.md,
 * "Fourteenth round"). An event that comes after a quiet spell — slower than one per `gatherMs`
 * — runs at once, as before; at full speed a batch waits for the sync in flight anyway and the
 * gather rarely applies. A batch of one call is not followed by a gather: one producer that
 * waits for each answer before sending the next (a script, a backfill) makes batches of one, and
 * would otherwise wait out the gather for every event. Several such producers still would, which
 * is why the gather is off unless `KEJUE_COMMIT_GATHER_MS` is set (docs/configuration.md,
 * "Commit gather").
 */
export interface BatchGather {
  /** Runs `run` for the batch whose first call just arrived, when it is due (see above). */
  schedule (run: () => void): void
  /** Tells the gather that a batch of `calls` calls ran now (call it from the batch itself). */
  ran (calls: number): void
}

export function createBatchGather (gatherMs: number, now: () => number = () => performance.now()): BatchGather {
  let lastRun = -Infinity
  return {
    schedule (run) {
      const wait = lastRun + gatherMs - now()
      // setTimeout has millisecond steps: under one, the next turn is as near as it gets.
      if (wait >= 1) setTimeout(run, wait)
      else setImmediate(run)
    },
    ran (calls) {
      // After a batch of one, the next runs at once (see above).
      lastRun = calls > 1 ? now() : -Infinity
    },
  }
}
