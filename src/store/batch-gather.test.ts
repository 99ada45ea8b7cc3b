import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { test } from 'node:test'
import { createBatchGather } from './batch-gather.js'

/** Resolves when `run` is called, and says whether it has been. */
function runner (): { run: () => void, ran: () => boolean, done: Promise<void> } {
  let called = false
  let resolve: () => void = () => {}
  const done = new Promise<void>((r) => { resolve = r })
  return { run: () => { called = true; resolve() }, ran: () => called, done }
}

test('without a gather, a batch runs at the next turn', async () => {
  const gather = createBatchGather(0)
  gather.ran(2)
  const r = runner()
  gather.schedule(r.run)
  await nextTurn()
  assert.equal(r.ran(), true)
})

test('the first batch, and one after a quiet spell, run at the next turn', async () => {
  let now = 1_000
  const gather = createBatchGather(50, () => now)
  const first = runner()
  gather.schedule(first.run)
  await nextTurn()
  assert.equal(first.ran(), true, 'no batch ran before: nothing to wait for')

  gather.ran(2)
  now += 50
  const later = runner()
  gather.schedule(later.run)
  await nextTurn()
  assert.equal(later.ran(), true, 'the previous batch ran a whole gather ago')
})

/** A batch of `calls` calls ran, and 10 ms later (on the gather's clock) the next one is scheduled. */
function scheduled10msAfter (gatherMs: number, calls: number): ReturnType<typeof runner> {
  let now = 1_000
  const gather = createBatchGather(gatherMs, () => now)
  gather.ran(calls)
  now += 10
  const r = runner()
  gather.schedule(r.run)
  return r
}

test('a batch that starts within the gather after the last one waits for the rest of it', async () => {
  const r = scheduled10msAfter(1_000, 2)
  await nextTurn()
  await nextTurn()
  assert.equal(r.ran(), false, 'it waits ~990 ms, not a turn')
  await r.done
})

test('after a batch of one call, the next runs at the next turn (one producer waiting for each answer)', async () => {
  const r = scheduled10msAfter(40, 1)
  await nextTurn()
  assert.equal(r.ran(), true)
})
