/** What one queued call came to inside a shared transaction. */
export type Outcome<O> = { ok: true, value: O } | { ok: false, error: unknown }

/**
 * Group commit for calls that each need their own transaction: calls made in the same turn of
 * the event loop are queued and run together by `runBatch` in ONE write transaction (one fsync),
 * each inside its own savepoint so that one failing call leaves the others intact. A call's
 * promise settles only after the shared transaction committed and `durable` (when given: the WAL
 * fsync off the main thread, wal-sync.ts) resolved, so a resolved call is durable. If the commit
 * or the sync fails, every call of the batch rejects with that error.
 */
export function createGroupCommit<I, O> (
  runBatch: (inputs: readonly I[]) => Array<Outcome<O>>,
  afterCommit: (inputs: readonly I[], outcomes: ReadonlyArray<Outcome<O>>) => void = () => {},
  durable?: () => Promise<void>,
): { submit: (input: I) => Promise<O>, flush: () => void } {
  let queue: Array<{ input: I, resolve: (value: O) => void, reject: (error: unknown) => void }> = []

  function settle (batch: typeof queue, outcomes: Array<Outcome<O>>): void {
    afterCommit(batch.map((item) => item.input), outcomes)
    batch.forEach((item, i) => {
      const outcome = outcomes[i]
      if (outcome === undefined) item.reject(new Error('group commit lost a result'))
      else if (outcome.ok) item.resolve(outcome.value)
      else item.reject(outcome.error)
    })
  }

  function flush (): void {
    const batch = queue
    if (batch.length === 0) return
    queue = []
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
    durable().then(() => { settle(batch, outcomes) }, (error: unknown) => {
      for (const item of batch) item.reject(error)
    })
  }

  return {
    submit: (input) => new Promise<O>((resolve, reject) => {
      // setImmediate, not a microtask: requests parsed in the same I/O phase join one batch.
      if (queue.length === 0) setImmediate(flush)
      queue.push({ input, resolve, reject })
    }),
    /** Commits what is queued now (before closing). */
    flush,
  }
}
