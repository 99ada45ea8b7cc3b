import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { test } from 'node:test'
import { createBatchGather } from '../batch-gather.js'
import { createGroupCommit } from './group-commit.js'
import type { Outcome } from './group-commit.js'

/** A sync that ends when the test says so. */
function manualSync (): { durable: () => Promise<void>, running: () => number, end: (error?: Error) => void } {
  const waiting: Array<{ resolve: () => void, reject: (error: Error) => void }> = []
  return {
    durable: () => new Promise<void>((resolve, reject) => { waiting.push({ resolve, reject }) }),
    running: () => waiting.length,
    end: (error) => {
      const sync = waiting.shift()
      if (sync === undefined) throw new Error('no sync is running')
      if (error === undefined) sync.resolve()
      else sync.reject(error)
    },
  }
}

function recorder (): { batches: number[][], run: (inputs: readonly number[]) => Array<Outcome<number>> } {
  const batches: number[][] = []
  return { batches, run: (inputs) => { batches.push([...inputs]); return inputs.map((value) => ({ ok: true, value: value * 10 })) } }
}

/** A group commit over `recorder` whose syncs the test ends. */
function synced (): { sync: ReturnType<typeof manualSync>, batches: number[][], commit: ReturnType<typeof createGroupCommit<number, number>> } {
  const sync = manualSync()
  const { batches, run } = recorder()
  return { sync, batches, commit: createGroupCommit(run, undefined, sync.durable) }
}

/** Submits each value in a turn of its own; the calls' promises, unawaited. */
async function submitInTurns (commit: { submit: (input: number) => Promise<number> }, values: readonly number[]): Promise<Array<Promise<number>>> {
  const calls: Array<Promise<number>> = []
  for (const value of values) {
    calls.push(commit.submit(value))
    await nextTurn()
  }
  return calls
}

test('calls made in one turn commit together and resolve after their sync', async () => {
  const { sync, batches, commit } = synced()
  let resolved = 0
  const calls = [1, 2, 3].map(async (n) => { const value = await commit.submit(n); resolved++; return value })
  await nextTurn()
  assert.deepEqual(batches, [[1, 2, 3]])
  assert.equal(resolved, 0, 'nothing is acknowledged before its sync')
  sync.end()
  assert.deepEqual(await Promise.all(calls), [10, 20, 30])
})

test('calls that arrive while a sync runs commit together when it ends', async () => {
  const { sync, batches, commit } = synced()
  const first = commit.submit(1)
  await nextTurn()
  // Three more turns while the first batch's sync runs: no commit yet.
  const later = await submitInTurns(commit, [2, 3, 4])
  assert.deepEqual(batches, [[1]])
  assert.equal(sync.running(), 1)
  sync.end()
  assert.equal(await first, 10)
  await nextTurn()
  assert.deepEqual(batches, [[1], [2, 3, 4]], 'the waiting calls are one batch')
  sync.end()
  assert.deepEqual(await Promise.all(later), [20, 30, 40])
})

test('a failed sync rejects its batch only; the next batch still commits', async () => {
  const { sync, batches, commit } = synced()
  const first = commit.submit(1)
  await nextTurn()
  const second = commit.submit(2)
  await nextTurn()
  sync.end(new Error('EIO'))
  await assert.rejects(first, /EIO/)
  await nextTurn()
  assert.deepEqual(batches, [[1], [2]])
  sync.end()
  assert.equal(await second, 20)
})

test('flush commits what is queued at once, even while a sync runs', async () => {
  const { sync, batches, commit } = synced()
  const first = commit.submit(1)
  await nextTurn()
  const second = commit.submit(2)
  commit.flush()
  assert.deepEqual(batches, [[1], [2]])
  assert.equal(sync.running(), 2)
  sync.end()
  sync.end()
  assert.deepEqual(await Promise.all([first, second]), [10, 20])
})

test('after a flush during a sync, the next batch waits for both syncs', async () => {
  const { sync, batches, commit } = synced()
  const first = commit.submit(1)
  await nextTurn()
  const second = commit.submit(2)
  commit.flush()
  const third = commit.submit(3)
  await nextTurn()
  sync.end()
  assert.equal(await first, 10)
  await nextTurn()
  assert.deepEqual(batches, [[1], [2]], 'the second sync still runs')
  sync.end()
  assert.equal(await second, 20)
  await nextTurn()
  assert.deepEqual(batches, [[1], [2], [3]])
  sync.end()
  assert.equal(await third, 30)
})

test('without a sync, each turn commits and resolves at once', async () => {
  const { batches, run } = recorder()
  const commit = createGroupCommit(run)
  assert.equal(await commit.submit(1), 10)
  assert.equal(await commit.submit(2), 20)
  assert.deepEqual(batches, [[1], [2]])
})

test('a throwing afterCommit does not keep a committed batch from resolving', async () => {
  const sync = manualSync()
  const { batches, run } = recorder()
  const seen: number[][] = []
  const commit = createGroupCommit(run, (inputs) => { seen.push([...inputs]); throw new Error('hook failed') }, sync.durable)
  const calls = [commit.submit(1), commit.submit(2)]
  await nextTurn()
  sync.end()
  assert.deepEqual(await Promise.all(calls), [10, 20])
  assert.deepEqual(seen, [[1, 2]], 'the hook ran once the batch was durable')
  // The next batch still commits (no sync left counted as running).
  const next = commit.submit(3)
  await nextTurn()
  sync.end()
  assert.equal(await next, 30)
  assert.deepEqual(batches, [[1, 2], [3]])
})

test('with a gather, calls of later turns soon after a commit join one batch', async () => {
  const { batches, run } = recorder()
  const commit = createGroupCommit(run, undefined, undefined, createBatchGather(1_500))
  assert.deepEqual(await Promise.all([commit.submit(1), commit.submit(2)]), [10, 20])
  // Within 1.5 s of that commit (of two calls: a batch of one is not followed by a gather),
  // calls of three turns wait together; flush (what close does) commits them at once instead of
  // at the gather's end.
  const later = await submitInTurns(commit, [3, 4, 5])
  assert.deepEqual(batches, [[1, 2]])
  commit.flush()
  assert.deepEqual(await Promise.all(later), [30, 40, 50])
  assert.deepEqual(batches, [[1, 2], [3, 4, 5]])
})

test('with a gather, a call after a batch of one commits at the next turn', async () => {
  const { batches, run } = recorder()
  const commit = createGroupCommit(run, undefined, undefined, createBatchGather(60_000))
  assert.equal(await commit.submit(1), 10)
  const second = commit.submit(2)
  await nextTurn()
  assert.deepEqual(batches, [[1], [2]], 'committed at the next turn, not after the minute')
  assert.equal(await second, 20)
})
