import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { startHarness } from '../helpers/engine-harness.js'
import { startReceiver } from '../helpers/receiver.js'

const SECRET = 'whsec_test_secret'

function signatureValid (headers: IncomingHttpHeaders, body: Buffer): boolean {
  const timestamp = headers['x-kejue-timestamp']
  const signature = headers['x-kejue-signature']
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false
  const expected = createHmac('sha256', SECRET).update(`${timestamp}.${body.toString('utf8')}`).digest('hex')
  return signature === `sha256=${expected}` && Math.abs(Date.now() - Number(timestamp)) < 300_000
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
 * The wait before each retry, from the store's attempt records: start of attempt n+1 minus the
 * end of attempt n. A retry can never start before it is due (the claim checks the due time), so
 * the lower bound is exact; the upper bound only says "not much later" and is loose for loaded machines.
 */
async function retryGaps (h: Awaited<ReturnType<typeof startHarness>>, deliveryId: string): Promise<number[]> {
  const attempts = await h.store.listAttempts(deliveryId)
  return attempts.slice(1).map((a, i) => {
    const previous = attempts[i]
    return previous === undefined ? NaN : a.startedAt.getTime() - (previous.startedAt.getTime() + previous.durationMs)
  })
}

function assertRetriedAfter (gaps: number[], expected: number[]): void {
  assert.equal(gaps.length, expected.length)
  for (const [i, delay] of expected.entries()) {
    const gap = gaps[i] ?? NaN
    // Jitter adds up to 10% (docs/delivery.md); the rest is claiming and scheduling latency.
    assert.ok(gap >= delay && gap <= delay * 1.1 + 5_000, `retry ${i + 1} started ${gap} ms after the failed attempt ended, expected ${delay}–${delay * 1.1} ms`)
  }
}

async function send (h: Awaited<ReturnType<typeof startHarness>>, event: 'call.ended' | 'call.started' | 'call.analyzed' | 'campaign.ended' = 'call.ended', data?: Record<string, unknown>): Promise<string[]> {
  const accepted = await acceptEvent(h.store, { workspaceId: h.workspaceId, event, data: data ?? samplePayload(event) })
  return accepted.deliveryIds
}

test('retries a 503 twice, 500 ms then 1000 ms later, with the same body signed afresh', async () => {
  const h = await startHarness()
  const receiver = await startReceiver({ respond: [503, 503, 200] })
  try {
    await h.addWebhook({ url: receiver.url })
    const [deliveryId] = await send(h)
    assert.ok(deliveryId !== undefined)
    const delivery = await h.waitForDelivery(deliveryId, 'succeeded')
    const requests = receiver.requests
    assert.equal(requests.length, 3)
    assert.equal(delivery.attemptCount, 3)
    const [a, b, c] = requests
    assert.ok(a !== undefined && b !== undefined && c !== undefined)
    assertRetriedAfter(await retryGaps(h, deliveryId), [500, 1000])
    assert.ok(a.body.equals(b.body) && b.body.equals(c.body), 'every attempt sends the same bytes')
    for (const [i, r] of requests.entries()) {
      assert.ok(signatureValid(r.headers, r.body), `attempt ${i + 1} is signed`)
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

test('an endpoint that always answers 500 gets exactly 4 attempts (500/1000/2000 ms apart), then the delivery fails', async () => {
  const h = await startHarness()
  const receiver = await startReceiver({ respond: [500] })
  try {
    await h.addWebhook({ url: receiver.url })
    const [deliveryId] = await send(h)
    assert.ok(deliveryId !== undefined)
    const delivery = await h.waitForDelivery(deliveryId, 'failed', 10_000)
    assert.equal(delivery.attemptCount, 4)
    assert.equal(delivery.nextAttemptAt, null)
    assertRetriedAfter(await retryGaps(h, deliveryId), [500, 1000, 2000])
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

test('a receiver that never answers is cut off at timeout_ms (1 s) and retried', async () => {
  const h = await startHarness()
  const receiver = await startReceiver({ respond: [{ status: 200, hang: 'no-response' }, 200] })
  try {
    await h.addWebhook({ url: receiver.url, timeoutMs: 1_000 })
    const [deliveryId] = await send(h)
    assert.ok(deliveryId !== undefined)
    await h.waitForDelivery(deliveryId, 'succeeded', 8_000)
    const attempts = await h.store.listAttempts(deliveryId)
    assert.equal(attempts.length, 2)
    const first = attempts[0]
    assert.ok(first !== undefined)
    assert.equal(first.statusCode, null)
    assert.match(first.error ?? '', /no complete response within 1000 ms/)
    assert.ok(first.durationMs >= 950 && first.durationMs <= 1_600, `the attempt took ${first.durationMs} ms, expected ≈ 1000`)
    const gap = (receiver.requests[1]?.receivedAt ?? 0) - (receiver.requests[0]?.receivedAt ?? 0)
    assert.ok(gap >= 1_450 && gap <= 2_300, `the retry came ${gap} ms after the first request, expected ≈ 1000 + 500`)
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
    await dead.waitForRequests(32, 5_000)
    const started = Date.now()
    for (let i = 0; i < 100; i++) await send(h, 'call.ended')
    await live.waitForRequests(100, 5_000)
    const tookMs = Date.now() - started
    assert.ok(tookMs < 3_000, `100 deliveries to the live endpoint took ${tookMs} ms while another endpoint hung`)
    assert.ok(dead.requests.length <= 64, `the dead endpoint holds ${dead.requests.length} requests; bounded per endpoint`)
  } finally {
    await h.close()
    await dead.close()
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
