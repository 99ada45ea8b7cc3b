/**
 * Reads made in the same turn of the event loop share their round trips: every request that
 * routes an event reads its call and its candidate webhooks, and with 64 requests in flight most
 * of them ask at once — often the very same thing. Measured on the full ingest path, one round
 * trip per event less was +30 % events/s on PostgreSQL (docs/performance.md): its per-statement
 * work and the context switches of a round trip cost more than the statement itself. SQLite has
 * no round trip, but a read outside a transaction begins and ends a read transaction of its own:
 * the routing reads of a turn in one transaction cut the service's CPU per event by ~10 %
 * (eleventh round).
 *
 * A read is queued and the queue runs at the next `setImmediate` (the requests parsed in one I/O
 * phase join), with equal keys asked once. `load` gets the distinct keys and answers each; a key
 * it leaves out reads as `undefined`. The read is as fresh as a read made then: nothing is kept
 * after the batch answers. When a batch of several keys fails, each key is read again on its
 * own (`retryAlone`), so one bad key (an id PostgreSQL refuses, say) fails only its own readers,
 * and every reader gets its own answer or error (503 STORE_UNAVAILABLE while the database is
 * away). Where no key can fail alone (SQLite binds them all alike) the batch's error goes to
 * every reader at once: reading each again would wait out a busy database once per key.
 */
export function createTurnBatch<K, V> (
  keyOf: (key: K) => string,
  load: (keys: readonly K[]) => Promise<Map<string, V>>,
  options: { retryAlone?: boolean } = {},
): (key: K) => Promise<V | undefined> {
  interface Waiter { resolve: (value: V | undefined) => void, reject: (error: unknown) => void }
  interface Entry { key: K, waiters: Waiter[] }
  let queue = new Map<string, Entry>()

  function answer (entries: ReadonlyArray<[string, Entry]>, onError: (error: unknown) => void): void {
    load(entries.map(([, entry]) => entry.key)).then((answers) => {
      for (const [id, entry] of entries) for (const waiter of entry.waiters) waiter.resolve(answers.get(id))
    }, onError)
  }

  function run (): void {
    const batch = [...queue]
    queue = new Map()
    answer(batch, (error: unknown) => {
      if (batch.length === 1 || options.retryAlone === false) {
        for (const [, entry] of batch) for (const waiter of entry.waiters) waiter.reject(error)
        return
      }
      for (const one of batch) {
        answer([one], (alone: unknown) => { for (const waiter of one[1].waiters) waiter.reject(alone) })
      }
    })
  }

  return async (key) => await new Promise<V | undefined>((resolve, reject) => {
    if (queue.size === 0) setImmediate(run)
    const id = keyOf(key)
    const entry = queue.get(id)
    if (entry === undefined) queue.set(id, { key, waiters: [{ resolve, reject }] })
    else entry.waiters.push({ resolve, reject })
  })
}
