/**
 * rate_limit_per_s (docs/delivery.md, "Rate limits"): a webhook limited to 20/s starts its 200
 * attempts over at least 8.5 s, never more than 20 in any one second, and none fails for it. On
 * both stores; on PostgreSQL also with two engines sharing the limit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { STORE_KINDS, startStack } from '../helpers/both-stores.js'
import type { StoreKind } from '../helpers/both-stores.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'

const LIMIT = 20
const DELIVERIES = 200

/** The most attempt starts in any one-second window [t, t + 1000). */
function busiestSecond (starts: readonly number[]): number {
  let most = 0
  for (let i = 0, j = 0; i < starts.length; i++) {
    while ((starts[j] as number) <= (starts[i] as number) - 1_000) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

async function run (kind: StoreKind, engines: number, allowedExcess: number): Promise<void> {
  const stack = await startStack(kind, { engines })
  const receiver = await startReceiver({ respond: [200] })
  try {
    await stack.addWebhook({ url: receiver.url, events: ['*'], rateLimitPerS: LIMIT, maxRetries: 0 })
    // A second webhook without a limit is not slowed by the first.
    const free = await startReceiver({ respond: [200] })
    await stack.addWebhook({ url: free.url, events: ['*'] })
    const ids: string[] = []
    await Promise.all(Array.from({ length: DELIVERIES }, async (_, i) => {
      const accepted = await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data: samplePayload('call.ended', { job_id: `job_${i}` }) as unknown as Record<string, unknown> })
      ids.push(...accepted.deliveryIds)
    }))
    await free.waitForRequests(DELIVERIES, 30_000)
    const freeDoneAt = Date.now()
    await free.close()
    await waitFor('every delivery to settle', async () => (await stack.store.queueStats(new Date(), new Date(0))).pending === 0, 120_000, 100)

    const attempts = [...(await stack.store.attemptsOf(ids)).values()].flat()
    assert.equal(receiver.requests.length, DELIVERIES, 'one attempt each: none failed or was retried')
    const recorded = (await Promise.all(ids.map(async (id) => await stack.store.getDelivery(stack.workspaceId, id))))
      .filter((d) => d?.url === receiver.url)
    assert.equal(recorded.length, DELIVERIES)
    assert.ok(recorded.every((d) => d?.status === 'succeeded' && d.attemptCount === 1))
    // The attempts' start times as the engine recorded them.
    const limitedIds = new Set(recorded.map((d) => d?.id))
    const started = attempts.filter((a) => limitedIds.has(a.deliveryId)).map((a) => a.startedAt.getTime()).sort((a, b) => a - b)
    assert.equal(started.length, DELIVERIES)
    const span = (started.at(-1) as number) - (started[0] as number)
    assert.ok(span >= 8_500, `200 attempts at 20/s took ${span} ms`)
    assert.ok(busiestSecond(started) <= LIMIT + allowedExcess,
      `busiest second had ${busiestSecond(started)} starts (ms from the first: ${started.map((x) => x - (started[0] as number)).join(', ')})`)
    assert.ok(freeDoneAt - (started[0] as number) < span, 'the unlimited webhook finished first')
  } finally {
    await receiver.close()
    await stack.close()
  }
}

for (const kind of STORE_KINDS) {
  test(`${kind}: a webhook limited to 20/s starts its 200 attempts over ≥ 8.5 s, never more than 20 in a second, none failed`, async () => {
    await run(kind, 1, 0)
  })
}

test('postgres: two engines share one webhook\'s limit (within the documented tolerance)', async () => {
  await run('postgres', 2, 1)
})
