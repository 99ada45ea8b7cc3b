/**
 * Isolation (docs/delivery.md, "Isolation"): a webhook's failures never take capacity another
 * webhook needs, on the same host or another, without any breaker. Real receivers on
 * 127.0.0.1, the real engine, sender and SQLite store.
 *
 * The hanging webhooks have timeout_ms 30,000, so "promptly" is a behaviour, not a stopwatch:
 * the healthy webhook must get all its deliveries while the hanging ones' first attempts are
 * still outstanding. Without per-webhook pools (test 1) or the stall lane (test 2) it cannot,
 * because it would wait for those 30-second timeouts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import type { AttemptOutcome } from '../../src/delivery/outcome.js'
import { samplePayload } from '../../src/events/samples.js'
import { USER_AGENT } from '../../src/util/version.js'
import { waitFor } from '../helpers/wait-for.js'
import { startHarness } from '../helpers/engine-harness.js'
import type { Harness } from '../helpers/engine-harness.js'
import { endlessHeaders, trickledBody, trickledHeaders } from '../helpers/hostile-replies.js'
import { startReceiver } from '../helpers/receiver.js'
import type { ReceivedRequest, Receiver, ReceiverReply } from '../helpers/receiver.js'

const HANG_TIMEOUT_MS = 30_000
const HEALTHY_EVENTS = 200

/** Accepts `count` events of one type, a few at a time as concurrent API requests would. */
async function accept (h: Harness, event: 'call.started' | 'call.ended', count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, count - i) }, () =>
      acceptEvent(h.store, { workspaceId: h.workspaceId, event, data: samplePayload(event) })))
    for (const accepted of batch) ids.push(...accepted.deliveryIds)
  }
  return ids
}

function onPath (receiver: Receiver, prefix: string): ReceivedRequest[] {
  return receiver.requests.filter((r) => r.path.startsWith(prefix))
}

/**
 * Sends the healthy webhook its events and waits for all of them, at the latest until 2 s
 * before the first hanging attempt would time out; then checks that attempt is still open.
 */
async function healthyDeliversBeforeFirstTimeout (h: Harness, receiver: Receiver, hangingPrefix: string, firstHangingDelivery: string): Promise<void> {
  const firstHangingAt = Math.min(...onPath(receiver, hangingPrefix).map((r) => r.receivedAt))
  await accept(h, 'call.ended', HEALTHY_EVENTS)
  const budgetMs = firstHangingAt + HANG_TIMEOUT_MS - 2_000 - Date.now()
  await waitFor('every healthy delivery to arrive', () => onPath(receiver, '/live').length >= HEALTHY_EVENTS, budgetMs)
  assert.equal(onPath(receiver, '/live').length, HEALTHY_EVENTS)
  assert.deepEqual(await h.store.listAttempts(firstHangingDelivery), [], 'the hanging webhook\'s first attempt is still outstanding')
}

// These tests prove the pools and slots alone keep a dead endpoint from starving the others:
// the breaker, which would also stop it (docs/delivery.md, "The life of an endpoint"), is off.
const BREAKER_OFF = { engine: { breakerThreshold: 0 } }

function byPath (routes: Record<string, (res: Parameters<NonNullable<ReceiverReply['write']>>[0]) => void>): (request: ReceivedRequest) => number | ReceiverReply {
  return (request) => {
    if (request.path === '/live') return 200
    const hostile = Object.entries(routes).find(([prefix]) => request.path.startsWith(prefix))
    return hostile === undefined ? { status: 200, hang: 'no-response' } : { status: 200, write: hostile[1] }
  }
}

test('two webhooks on one host: while one path hangs with hundreds pending, the other delivers every event', async () => {
  const receiver = await startReceiver({ respond: byPath({}) })
  const h = await startHarness(BREAKER_OFF)
  const base = `http://127.0.0.1:${receiver.port}`
  try {
    await h.addWebhook({ url: `${base}/dead`, events: ['call.started'], timeoutMs: HANG_TIMEOUT_MS })
    await h.addWebhook({ url: `${base}/live`, events: ['call.ended'] })
    const deadIds = await accept(h, 'call.started', 300)
    // The hanging path has every connection it may have to the shared host...
    await waitFor('64 requests on /dead', () => onPath(receiver, '/dead').length >= 64)
    // ...and the other path on that host still gets through.
    await healthyDeliversBeforeFirstTimeout(h, receiver, '/dead', deadIds[0] ?? '')
    assert.ok(onPath(receiver, '/dead').length <= 64, 'a webhook never has more than its own cap in flight')
  } finally {
    await receiver.close()
    await h.close()
  }
})

test('hanging webhooks numerous enough to fill the global in-flight budget do not starve a healthy one', async () => {
  const receiver = await startReceiver({ respond: byPath({}) })
  const h = await startHarness(BREAKER_OFF)
  const base = `http://127.0.0.1:${receiver.port}`
  try {
    // 6 × 64 = 384 attempts could hang at once, more than the 256 of the global budget.
    for (let i = 0; i < 6; i++) await h.addWebhook({ url: `${base}/dead-${i}`, events: ['call.started'], timeoutMs: HANG_TIMEOUT_MS })
    await h.addWebhook({ url: `${base}/live`, events: ['call.ended'] })
    const deadIds = await accept(h, 'call.started', 150)
    await waitFor('256 requests on /dead-', () => onPath(receiver, '/dead-').length >= 256)
    await healthyDeliversBeforeFirstTimeout(h, receiver, '/dead-', deadIds[0] ?? '')
    for (let i = 0; i < 6; i++) assert.ok(onPath(receiver, `/dead-${i}`).length <= 64)
  } finally {
    await receiver.close()
    await h.close()
  }
})

test('hostile answers on the same host (endless headers, headers or body at 1 byte/s) do not hold up a healthy webhook', async () => {
  const receiver = await startReceiver({
    respond: byPath({ '/endless-headers': endlessHeaders, '/trickled-headers': trickledHeaders, '/trickled-body': trickledBody }),
  })
  const h = await startHarness(BREAKER_OFF)
  const base = `http://127.0.0.1:${receiver.port}`
  try {
    const webhookIds = new Map<string, string>()
    for (const path of ['/endless-headers', '/trickled-headers', '/trickled-body']) {
      const webhook = await h.addWebhook({ url: `${base}${path}`, events: ['call.started'], timeoutMs: HANG_TIMEOUT_MS })
      webhookIds.set(webhook.id, path)
    }
    await h.addWebhook({ url: `${base}/live`, events: ['call.ended'] })
    // The first event's deliveries, one per hostile webhook, by path.
    const firstByPath = new Map<string, string>()
    for (const id of (await accept(h, 'call.started', 100)).slice(0, 3)) {
      const delivery = await h.store.getDelivery(h.workspaceId, id)
      firstByPath.set(webhookIds.get(delivery?.webhookId ?? '') ?? '', id)
    }
    await waitFor('128 requests on /trickled-', () => onPath(receiver, '/trickled-').length >= 128)
    await healthyDeliversBeforeFirstTimeout(h, receiver, '/trickled-', firstByPath.get('/trickled-body') ?? '')
    assert.deepEqual(await h.store.listAttempts(firstByPath.get('/trickled-headers') ?? ''), [])
    // Endless headers are cut off by the header cap, long before the deadline.
    await waitFor('1 requests on /endless-headers', () => onPath(receiver, '/endless-headers').length >= 1)
    let attempts: Awaited<ReturnType<Harness['store']['listAttempts']>> = []
    const deadline = Date.now() + 10_000
    while (attempts.length === 0 && Date.now() < deadline) {
      attempts = await h.store.listAttempts(firstByPath.get('/endless-headers') ?? '')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.equal(attempts[0]?.error, 'response headers too large')
  } finally {
    await receiver.close()
    await h.close()
  }
})

test('the sender ends hostile answers by the header cap or at the attempt deadline', async () => {
  const receiver = await startReceiver({
    respond: byPath({ '/endless-headers': endlessHeaders, '/trickled-headers': (res) => { trickledHeaders(res, 100) }, '/trickled-body': (res) => { trickledBody(res, 100) } }),
  })
  const client = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  const send = (path: string, timeoutMs: number): Promise<AttemptOutcome> =>
    client.send({ webhookId: 'wh_hostile', url: `http://127.0.0.1:${receiver.port}${path}`, headers: {}, body: '{}', timeoutMs })
  try {
    const [headers, trickledHead, trickledTail] = await Promise.all([
      send('/endless-headers', 20_000),
      send('/trickled-headers', 1_500),
      send('/trickled-body', 1_500),
    ])
    assert.deepEqual([headers.kind, 'error' in headers ? headers.error : ''], ['failed', 'response headers too large'])
    for (const outcome of [trickledHead, trickledTail]) {
      assert.equal(outcome.kind, 'failed', JSON.stringify(outcome))
      assert.ok(outcome.kind === 'failed')
      assert.equal(outcome.error, 'no complete response within 1500 ms')
    }
  } finally {
    await receiver.close()
    await client.close()
  }
})

test('a webhook whose attempts all stall hands its buffer back and still gets it delivered, without waiting for the idle poll', async () => {
  // Idle polls far beyond the deadline: only the engine's own wake-ups can deliver everything.
  const h = await startHarness({ start: false, engine: { idlePollMs: 600_000, breakerThreshold: 0 } })
  // Every answer takes longer than the stall limit (1 s): all 64 attempts stall, and the 36
  // buffered deliveries go back to the store. They are due, so the engine must claim them again.
  const slow = await startReceiver({ respond: [{ status: 200, delayMs: 1_500 }] })
  try {
    await h.addWebhook({ url: slow.url, events: ['call.ended'], timeoutMs: 30_000 })
    const ids = await accept(h, 'call.ended', 100)
    assert.equal(ids.length, 100)
    h.engine.start()
    await slow.waitForRequests(100, 60_000)
    for (const id of ids) await h.waitForDelivery(id, 'succeeded', 60_000)
  } finally {
    await slow.close()
    await h.close()
  }
})
