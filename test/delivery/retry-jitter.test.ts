/**
 * Retry jitter (docs/delivery.md): the engine spreads retries by up to +10% of the backoff, so
 * deliveries that failed together in one outage do not all come back in the same millisecond.
 * Measured from the store (next attempt time − end of the failed attempt), not from wall-clock gaps.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { startHarness } from '../helpers/engine-harness.js'
import type { Harness } from '../helpers/engine-harness.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'

/** Delays the engine chose before attempt 2 of `count` deliveries that all failed their first attempt. */
async function firstRetryDelays (h: Harness, count: number, backoffMs: number): Promise<number[]> {
  const receiver = await startReceiver({ respond: () => 503 })
  try {
    await h.addWebhook({ url: receiver.url, backoffMs, maxRetries: 1 })
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push(...(await acceptEvent(h.store, { workspaceId: h.workspaceId, event: 'call.ended', data: samplePayload('call.ended') })).deliveryIds)
    const delays: number[] = []
    await waitFor(`${count} first attempts recorded`, async () => {
      delays.length = 0
      for (const id of ids) {
        const delivery = await h.store.getDelivery(h.workspaceId, id)
        const [first] = await h.store.listAttempts(id)
        if (delivery === null || first === undefined || delivery.nextAttemptAt === null || delivery.attemptCount !== 1) return false
        delays.push(delivery.nextAttemptAt.getTime() - (first.startedAt.getTime() + first.durationMs))
      }
      return true
    }, 30_000)
    return delays
  } finally {
    await receiver.close()
  }
}

test('the engine jitters retries by default: spread over [backoff, backoff × 1.1], not one instant', async () => {
  // A long backoff keeps every delivery waiting for its retry while the test reads them. The
  // breaker is off: 40 failing first attempts would open it and hold the rest back.
  const h = await startHarness({ engine: { breakerThreshold: 0 } })
  try {
    const delays = await firstRetryDelays(h, 40, 60_000)
    for (const delay of delays) assert.ok(delay >= 60_000 && delay <= 66_000, `delay ${delay} ms is within backoff + 10%`)
    assert.ok(new Set(delays).size >= 10, `40 retries spread over many instants, got ${new Set(delays).size} distinct delays`)
  } finally {
    await h.close()
  }
})

test('the random source is injectable: r = 0.5 adds exactly 5% to every delay', async () => {
  const h = await startHarness({ random: () => 0.5, engine: { breakerThreshold: 0 } })
  try {
    const delays = await firstRetryDelays(h, 5, 60_000)
    assert.deepEqual(delays, Array(5).fill(63_000))
  } finally {
    await h.close()
  }
})
