import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { startHarness } from '../helpers/engine-harness.js'
import type { Harness } from '../helpers/engine-harness.js'
import { waitFor } from '../helpers/wait-for.js'
import { createManualClock } from '../../src/util/clock.js'
import type { ManualClock } from '../../src/util/clock.js'
import { startReceiver } from '../helpers/receiver.js'

const SECRET = 'whsec_test_secret'

function signatureValid (headers: IncomingHttpHeaders, body: Buffer, now = Date.now()): boolean {
  const timestamp = headers['x-kejue-timestamp']
  const signature = headers['x-kejue-signature']
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false
  const expected = createHmac('sha256', SECRET).update(`${timestamp}.${body.toString('utf8')}`).digest('hex')
  return signature === `sha256=${expected}` && Math.abs(now - Number(timestamp)) < 300_000
}

async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/**
 * Walks a delivery through its retries on a manual clock (and no jitter): each retry must be due
 * exactly `delay` after the failed attempt ended (the stored next_attempt_at), nothing may go out
 * while the clock stands 1 ms short of that, and the retry must start at exactly that instant.
 * Exact, because the engine takes due times and its wake-up timer from the clock.
 */
async function assertRetriedAfter (h: Harness, clock: ManualClock, deliveryId: string, delays: number[], requestsSoFar: () => number): Promise<void> {
  for (const [i, delay] of delays.entries()) {
    const [delivery, attempts] = await waitFor(`attempt ${i + 1} to be recorded`, async () => {
      const d = await h.store.getDelivery(h.workspaceId, deliveryId)
      return d?.attemptCount === i + 1 ? [d, await h.store.listAttempts(deliveryId)] as const : null
    })
    const failed = attempts[i]
    assert.ok(failed !== undefined && delivery.nextAttemptAt !== null, `attempt ${i + 1} failed and a retry is scheduled`)
    const dueAt = failed.startedAt.getTime() + failed.durationMs + delay
    assert.equal(delivery.nextAttemptAt.getTime(), dueAt, `retry ${i + 1} is due ${delay} ms after attempt ${i + 1} ended`)
    await clock.advance(dueAt - clock.now() - 1)
    h.engine.wake()
    await clock.advance(0)
    assert.equal(requestsSoFar(), i + 1, `nothing is sent 1 ms before retry ${i + 1} is due`)
    await clock.advance(1)
    const retried = await waitFor(`attempt ${i + 2} to start`, async () => (await h.store.listAttempts(deliveryId))[i + 1])
    assert.equal(retried.startedAt.getTime(), dueAt, `retry ${i + 1} started the moment it was due`)
  }
}

/** A harness whose engine runs on a manual clock set to now, without jitter. */
async function startClockedHarness (): Promise<{ h: Harness, clock: ManualClock }> {
  const clock = createManualClock(Date.now())
  const h = await startHarness({ clock, random: () => 0 })
  return { h, clock }
}

async function send (h: Harness, event: 'call.ended' | 'call.started' | 'call.analyzed' | 'campaign.ended' = 'call.ended', data?: Record<string, unknown>, clock?: ManualClock): Promise<string[]> {
  const accepted = await acceptEvent(h.store, { workspaceId: h.workspaceId, event, data: data ?? samplePayload(event) }, clock === undefined ? undefined : new Date(clock.now()))
  if (clock !== undefined) h.engine.wake()
  return accepted.deliveryIds
}

test('retries a 503 twice, 500 ms then 1000 ms later, with the same body signed afresh', async () => {
  const { h, clock } = await startClockedHarness()
  const receiver = await startReceiver({ respond: [503, 503, 200] })
  try {
    await h.addWebhook({ url: receiver.url })
    const [deliveryId] = await send(h, 'call.ended', undefined, clock)
    assert.ok(deliveryId !== undefined)
    await assertRetriedAfter(h, clock, deliveryId, [500, 1000], () => receiver.requests.length)
    const delivery = await h.waitForDelivery(deliveryId, 'succeeded')
    const requests = receiver.requests
    assert.equal(requests.length, 3)
    assert.equal(delivery.attemptCount, 3)
    const [a, b, c] = requests
    assert.ok(a !== undefined && b !== undefined && c !== undefined)
    assert.ok(a.body.equals(b.body) && b.body.equals(c.body), 'every attempt sends the same bytes')
    for (const [i, r] of requests.entries()) {
      assert.ok(signatureValid(r.headers, r.body, clock.now()), `attempt ${i + 1} is signed`)
      assert.equal(r.headers['x-kejue-attempt'], String(i + 1))
      assert.equal(r.headers['x-kejue-delivery-id'], deliveryId)
      assert.equal(r.headers['x-kejue-event'], 'call.ended')
      assert.match(String(r.headers['user-agent']), /^kejue-webhooks\/\d+\.\d+\.\d+/)
      assert.equal(r.headers['content-type'], 'application/json')
    }
    assert.equal(new Set(requests.map((r) => r.headers['x-kejue-event-id'])).size, 1)
    assert.equal(JSON.parse(a.body.toString()).event_id, a.headers['x-kejue-event-id'])
    const attempts = await h.store.listAttempts(deliveryId)
    assert.deepEqual(attempts.map((x) => x.statusCode), [503, 503, 200])
  } finally {
    await receiver.close()
    await h.close()
  }
})

test('a retry goes the moment it is due while new events keep the engine claiming (its nextDueAt answer is reused)', async () => {
  const { h, clock } = await startClockedHarness()
  const receiver = await startReceiver({ respond: [503, 200] })
  try {
    await h.addWebhook({ url: receiver.url })
    const [first] = await send(h, 'call.ended', undefined, clock)
    assert.ok(first !== undefined)
    const failed = await waitFor('attempt 1 to be recorded', async () => {
      const d = await h.store.getDelivery(h.workspaceId, first)
      return d?.attemptCount === 1 && d.nextAttemptAt !== null ? d : null
    })
    const dueAt = failed.nextAttemptAt?.getTime() ?? 0
    // Another event, well before the retry is due: its claim finds work, so the engine reuses its
    // last answer of when the next delivery is due instead of asking the store again.
    await clock.advance(50)
    const [second] = await send(h, 'call.ended', undefined, clock)
    assert.ok(second !== undefined)
    await h.waitForDelivery(second, 'succeeded')
    await clock.advance(dueAt - clock.now() - 1)
    assert.equal(receiver.requests.length, 2, 'nothing is sent 1 ms before the retry is due')
    await clock.advance(1)
    const retried = await waitFor('the retry to start', async () => (await h.store.listAttempts(first))[1])
    assert.equal(retried.startedAt.getTime(), dueAt, 'the retry started the moment it was due, without a wake-up')
  } finally {
    await receiver.close()
    await h.close()
  }
})

test('retries of two webhooks each go the moment they are due, also when a wake-up just before the first asked the store', async () => {
  const { h, clock } = await startClockedHarness()
  // The first webhook's retry hangs: no settlement wakes the engine while the second one waits.
  const early = await startReceiver({ respond: [500, { status: 200, hang: 'no-response' }] })
  const late = await startReceiver({ respond: [500, 200] })
  try {
    const first = await h.addWebhook({ url: early.url, retryScheduleMs: [100], timeoutMs: 30_000 })
    await h.addWebhook({ url: late.url, retryScheduleMs: [300] })
    await send(h, 'call.ended', undefined, clock)
    const failed = await waitFor('both first attempts to be recorded', async () => {
      const page = await h.store.listDeliveries({ workspaceId: h.workspaceId, limit: 10 })
      const due = page.data.map((d) => d.attemptCount === 1 ? d.nextAttemptAt?.getTime() : undefined)
      return due.length === 2 && due.every((t) => t !== undefined) ? (due as number[]).sort((a, b) => a - b) : null
    })
    const [earlyDue = 0, lateDue = 0] = failed
    // A wake-up shortly before the first retry (a new event would do the same): its claim finds
    // nothing and asks the store when the next delivery is due — the first retry. The claim at
    // that moment then finds work with that answer still fresh; it must not take it as the next
    // due time once it is past, or the second retry waits for the idle poll (1 s).
    await clock.advance(earlyDue - clock.now() - 20)
    h.engine.wake()
    await clock.advance(20)
    await waitFor('the first retry (it hangs)', async () => early.requests.length === 2 ? true : null)
    await clock.advance(lateDue - clock.now() - 1)
    assert.equal(late.requests.length, 1, 'nothing is sent 1 ms before the second retry is due')
    await clock.advance(1)
    await waitFor('the second retry, at its due time', async () => late.requests.length === 2 ? true : null)
    // Not woken by the hanging attempt's end (its 30 s timeout, or the waitFor's 60 s deadline).
    const [stillOut] = (await h.store.listDeliveries({ workspaceId: h.workspaceId, webhookId: first.id, limit: 1 })).data
    assert.equal(stillOut?.attemptCount, 1, 'the second retry went while the first webhook\'s retry was still hanging')
  } finally {
    await early.close()
    await late.close()
    await h.close()
  }
})

test('an endpoint that always answers 500 gets exactly 4 attempts (500/1000/2000 ms apart), then the delivery fails', async () => {
  const { h, clock } = await startClockedHarness()
  const receiver = await startReceiver({ respond: [500] })
  try {
    await h.addWebhook({ url: receiver.url })
    const [deliveryId] = await send(h, 'call.ended', undefined, clock)
    assert.ok(deliveryId !== undefined)
    await assertRetriedAfter(h, clock, deliveryId, [500, 1000, 2000], () => receiver.requests.length)
    const delivery = await h.waitForDelivery(deliveryId, 'failed')
    assert.equal(delivery.attemptCount, 4)
    assert.equal(delivery.nextAttemptAt, null)
    // The delivery is settled failed: nothing can claim it again, so the receiver saw exactly 4.
    assert.equal(receiver.requests.length, 4, 'no attempt after the last retry')
  } finally {
    await receiver.close()
    await h.close()
  }
})

for (const status of [400, 404, 429, 302]) {
  test(`a ${status} is a permanent failure: one attempt, never retried`, async () => {
    const h = await startHarness()
    const receiver = await startReceiver({ respond: [status === 302 ? { status, headers: { location: '/elsewhere' } } : status] })
    try {
      await h.addWebhook({ url: receiver.url, backoffMs: 100 })
      const [deliveryId] = await send(h)
      assert.ok(deliveryId !== undefined)
      const delivery = await h.waitForDelivery(deliveryId, 'failed')
      assert.equal(delivery.attemptCount, 1)
      assert.equal(delivery.lastStatusCode, status)
      // Settled failed: no further claim is possible, so one request is all there will be.
      assert.equal((await h.store.listAttempts(deliveryId)).length, 1)
      assert.equal(receiver.requests.length, 1)
      assert.equal(receiver.requests[0]?.path, '/hook', 'a redirect is not followed')
    } finally {
      await receiver.close()
      await h.close()
    }
  })
}

test('a receiver that never answers is cut off at timeout_ms (1 s) and retried 500 ms after the cut', async () => {
  const { h, clock } = await startClockedHarness()
  const receiver = await startReceiver({ respond: [{ status: 200, hang: 'no-response' }, 200] })
  try {
    await h.addWebhook({ url: receiver.url, timeoutMs: 1_000 })
    const [deliveryId] = await send(h, 'call.ended', undefined, clock)
    assert.ok(deliveryId !== undefined)
    await assertRetriedAfter(h, clock, deliveryId, [500], () => receiver.requests.length)
    await h.waitForDelivery(deliveryId, 'succeeded')
    const attempts = await h.store.listAttempts(deliveryId)
    assert.equal(attempts.length, 2)
    const first = attempts[0]
    assert.ok(first !== undefined)
    assert.equal(first.statusCode, null)
    assert.match(first.error ?? '', /no complete response within 1000 ms/)
    // The cut is a real-time timer: never early (a little slack for timer rounding), and the
    // attempt's measured duration is what the retry is counted from (checked exactly above).
    assert.ok(first.durationMs >= 950, `the attempt took ${first.durationMs} ms, at least the 1000 ms timeout`)
  } finally {
    await receiver.close()
    await h.close()
  }
})

test('a refused connection is retried', async () => {
  const h = await startHarness()
  try {
    await h.addWebhook({ url: `http://127.0.0.1:${await closedPort()}/hook`, maxRetries: 2, backoffMs: 100 })
    const [deliveryId] = await send(h)
    assert.ok(deliveryId !== undefined)
    const delivery = await h.waitForDelivery(deliveryId, 'failed')
    assert.equal(delivery.attemptCount, 3)
    const attempts = await h.store.listAttempts(deliveryId)
    for (const attempt of attempts) {
      assert.equal(attempt.statusCode, null)
      assert.match(attempt.error ?? '', /refused|connect/i)
    }
  } finally {
    await h.close()
  }
})

test('one endpoint that never answers does not slow delivery to another', async () => {
  const h = await startHarness()
  const dead = await startReceiver({ respond: [{ status: 200, hang: 'no-response' }] })
  const live = await startReceiver({ respond: [200] })
  try {
    await h.addWebhook({ url: dead.url, events: ['call.started'], timeoutMs: 30_000 })
    await h.addWebhook({ url: live.url, events: ['call.ended'] })
    // The dead endpoint's backlog is older, so it is first in line.
    for (let i = 0; i < 300; i++) await send(h, 'call.started')
    await dead.waitForRequests(32, 20_000)
    for (let i = 0; i < 100; i++) await send(h, 'call.ended')
    // All 100 arrive while every request to the dead endpoint is still hanging (its timeout is
    // 30 s): they did not wait for its slots to come free.
    await live.waitForRequests(100, 20_000)
    const pending = await h.store.listDeliveries({ workspaceId: h.workspaceId, status: 'pending', limit: 100 })
    assert.equal(pending.data.length, 100)
    assert.ok(pending.data.every((d) => d.attemptCount === 0), 'no attempt to the dead endpoint has ended yet')
    assert.ok(dead.requests.length <= 64, `the dead endpoint holds ${dead.requests.length} requests; bounded per endpoint`)
  } finally {
    // The hanging receiver goes first: its open requests end at once instead of at their timeout.
    await dead.close()
    await h.close()
    await live.close()
  }
})

test('with the SSRF guard on, a webhook to 127.0.0.1 is refused for good and nothing is sent', async () => {
  const h = await startHarness({ allowPrivateNetworks: false })
  const receiver = await startReceiver({ respond: [200] })
  try {
    await h.addWebhook({ url: receiver.url })
    const [deliveryId] = await send(h)
    assert.ok(deliveryId !== undefined)
    const delivery = await h.waitForDelivery(deliveryId, 'failed')
    assert.equal(delivery.attemptCount, 1)
    assert.match(delivery.lastError ?? '', /not allowed/)
    assert.equal(receiver.requests.length, 0)
  } finally {
    await receiver.close()
    await h.close()
  }
})
