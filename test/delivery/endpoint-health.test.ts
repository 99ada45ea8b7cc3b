/**
 * The life of an endpoint (docs/delivery.md) with real receivers on 127.0.0.1, on SQLite and
 * PostgreSQL: the breaker opens, probes and closes; a 410 disables; failing too long disables and
 * tells a subscriber of webhook.disabled, signed; a disabled webhook's events are parked and all
 * go, oldest first, once it is enabled; a 503's Retry-After and a retry schedule set the waits.
 * Timings are shortened through the engine's settings and clock; nothing asserts a tight window.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { verify } from '../../src/receiver/verify.js'
import type { Delivery } from '../../src/store/store.js'
import { systemClock } from '../../src/util/clock.js'
import { newId } from '../../src/util/ids.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { startHarness } from '../helpers/engine-harness.js'
import type { Harness, HarnessOptions } from '../helpers/engine-harness.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'

async function send (h: Harness, count: number, event: 'call.ended' | 'call.started' = 'call.ended', now?: Date): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    ids.push(...(await acceptEvent(h.store, { workspaceId: h.workspaceId, event, data: samplePayload(event) }, now)).deliveryIds)
  }
  return ids
}

async function deliveries (h: Harness, ids: readonly string[]): Promise<Delivery[]> {
  const out: Delivery[] = []
  for (const id of ids) {
    const delivery = await h.store.getDelivery(h.workspaceId, id)
    assert.ok(delivery !== null)
    out.push(delivery)
  }
  return out
}

for (const kind of ['sqlite', 'postgres'] as const) {
  const harness = async (options: HarnessOptions = {}): Promise<Harness> => await startHarness({ ...options, store: kind })

  describe(`endpoint health (${kind})`, () => {
    test('the breaker opens after 5 failed attempts, holds new deliveries, probes once, doubles its cool-down, and closes on a 2xx', async () => {
      let up = false
      const receiver = await startReceiver({ respond: () => (up ? 200 : 500) })
      // A cool-down long enough that a loaded machine reads the state between two probes.
      const h = await harness({ engine: { breakerCooldownMs: 1_500, idlePollMs: 50 } })
      try {
        const hook = await h.addWebhook({ url: receiver.url, maxRetries: 0 })
        const first = await send(h, 5)
        const opened = await waitFor('the breaker to open', async () => {
          const webhook = await h.store.getWebhook(h.workspaceId, hook.id)
          return webhook?.health.breaker === 'open' ? webhook : null
        })
        assert.ok(opened.health.consecutiveFailures >= 5)
        const probeAt = opened.health.breakerProbeAt
        assert.ok(probeAt !== null)
        await waitFor('the first five to fail', async () => (await deliveries(h, first)).every((d) => d.status === 'failed'))

        // New deliveries have had no attempt: they wait, pending, until the probe time.
        const waiting = await send(h, 4)
        for (const delivery of await deliveries(h, waiting)) {
          assert.equal(delivery.status, 'pending')
          assert.equal(delivery.attemptCount, 0)
          assert.ok(delivery.nextAttemptAt !== null && delivery.nextAttemptAt >= probeAt, 'next_attempt_at is the probe time')
        }
        // One probe goes after the cool-down and fails: the breaker reopens with twice the cool-down.
        const reopened = await waitFor('a failed probe', async () => {
          const webhook = await h.store.getWebhook(h.workspaceId, hook.id)
          return webhook?.health.breaker === 'open' && webhook.health.breakerCooldownMs === 3_000 ? webhook : null
        })
        const afterProbe = await deliveries(h, waiting)
        const probed = afterProbe.filter((d) => d.attemptCount > 0)
        assert.equal(probed.length, 1, 'a single probe')
        const [probeAttempt] = await h.store.listAttempts(probed[0]?.id ?? '')
        assert.ok(probeAttempt !== undefined && probeAttempt.startedAt >= probeAt, 'not before the probe time')
        assert.ok(reopened.health.breakerProbeAt !== null && reopened.health.breakerProbeAt > probeAt)

        up = true
        await waitFor('the waiting deliveries to go once a probe succeeds', async () =>
          (await deliveries(h, waiting)).filter((d) => d.attemptCount === 0).every((d) => d.status === 'succeeded') &&
          (await deliveries(h, waiting)).some((d) => d.status === 'succeeded'))
        const closed = await waitFor('the breaker to close', async () => {
          const webhook = await h.store.getWebhook(h.workspaceId, hook.id)
          return webhook?.health.breaker === 'closed' ? webhook : null
        })
        assert.equal(closed.health.consecutiveFailures, 0)
        assert.ok(closed.health.lastSuccessAt !== null)
        await waitFor('every waiting delivery to succeed', async () => (await deliveries(h, waiting.filter((id) => id !== probed[0]?.id))).every((d) => d.status === 'succeeded'))
      } finally {
        await h.close()
        await receiver.close()
      }
    })

    test('a retry series already running keeps its schedule while the breaker is open', async () => {
      const receiver = await startReceiver({ respond: () => 503 })
      const h = await harness({ engine: { breakerThreshold: 2, breakerCooldownMs: 60_000, idlePollMs: 50 }, random: () => 0 })
      try {
        await h.addWebhook({ url: receiver.url, maxRetries: 3, backoffMs: 100 })
        const [id] = await send(h, 1)
        const done = await waitFor('the delivery to end', async () => {
          const d = await h.store.getDelivery(h.workspaceId, id ?? '')
          return d?.status === 'failed' ? d : null
        })
        assert.equal(done.attemptCount, 4, 'all four attempts went, the breaker opened after the second')
        const attempts = await h.store.listAttempts(id ?? '')
        for (const [i, wait] of [100, 200, 400].entries()) {
          const before = attempts[i]
          const after = attempts[i + 1]
          assert.ok(before !== undefined && after !== undefined)
          assert.ok(after.startedAt.getTime() - (before.startedAt.getTime() + before.durationMs) >= wait, `retry ${i + 1} waited its ${wait} ms`)
        }
      } finally {
        await h.close()
        await receiver.close()
      }
    })

    test('a 410 disables the webhook at once; an inline webhook\'s 410 fails only that delivery', async () => {
      const receiver = await startReceiver({ respond: () => 410 })
      const h = await harness({ engine: { idlePollMs: 50 } })
      try {
        const hook = await h.addWebhook({ url: `${receiver.url}/sub`, events: ['call.started'] })
        const [id] = await send(h, 1, 'call.started')
        await h.waitForDelivery(id ?? '', 'failed')
        const webhook = await waitFor('the webhook to be disabled', async () => {
          const w = await h.store.getWebhook(h.workspaceId, hook.id)
          return w?.enabled === false ? w : null
        })
        assert.equal(webhook.disabledReason, 'gone')
        assert.ok(webhook.disabledAt !== null)
        const [next] = await send(h, 1, 'call.started')
        assert.equal((await h.store.getDelivery(h.workspaceId, next ?? ''))?.status, 'parked')

        const jobId = newId('job')
        const inline = webhookInput(h.workspaceId, { url: `${receiver.url}/inline`, events: ['call.ended'], jobId })
        await h.store.createCall({ workspaceId: h.workspaceId, jobId, personaId: null, hasInlineWebhooks: true, createdAt: new Date() }, [inline])
        const [inlineDelivery] = (await acceptEvent(h.store, { workspaceId: h.workspaceId, event: 'call.ended', data: { ...samplePayload('call.ended'), job_id: jobId } })).deliveryIds
        await h.waitForDelivery(inlineDelivery ?? '', 'failed')
        const stillThere = await h.store.listInlineWebhooks(h.workspaceId, jobId)
        assert.equal(stillThere[0]?.enabled, true, 'inline webhooks are never disabled')
        assert.equal(stillThere[0]?.health.consecutiveFailures, 0, 'nor tracked')
      } finally {
        await h.close()
        await receiver.close()
      }
    })

    test('25 deliveries failing over the window disable the webhook and a subscriber of webhook.disabled gets it signed', async () => {
      const failing = await startReceiver({ respond: () => 500 })
      const watcher = await startReceiver({ respond: () => 200 })
      const wildcard = await startReceiver({ respond: () => 200 })
      // The engine's clock runs two minutes ahead of the events: the window (one minute) is behind them.
      const h = await harness({
        start: false,
        clock: { ...systemClock, now: () => Date.now() + 120_000 },
        engine: { breakerThreshold: 0, autoDisableAfterMs: 60_000, idlePollMs: 50 },
      })
      try {
        const hook = await h.addWebhook({ url: failing.url, events: ['call.ended'], maxRetries: 0 })
        const secret = 'whsec_watcher_secret'
        await h.addWebhook({ url: watcher.url, events: ['webhook.disabled'], secret })
        await h.addWebhook({ url: wildcard.url, events: ['*'], secret })
        const ids = await send(h, 25)
        h.engine.start()
        const disabled = await waitFor('the webhook to be disabled', async () => {
          const w = await h.store.getWebhook(h.workspaceId, hook.id)
          return w?.enabled === false ? w : null
        })
        assert.equal(disabled.disabledReason, 'failing')
        assert.ok(disabled.health.failedDeliveriesInRow >= 20)
        // Attempts in flight finish; what had not gone is parked (held ones are handed back first).
        const statuses = await waitFor('every delivery failed or parked', async () => {
          const all = (await deliveries(h, ids)).filter((d) => d.webhookId === hook.id).map((d) => d.status)
          return all.every((s) => s === 'failed' || s === 'parked') ? all : null
        })
        assert.ok(statuses.filter((s) => s === 'failed').length >= 20)

        const [request] = await watcher.waitForRequests(1)
        assert.ok(request !== undefined)
        // Signed like any event (the receiver's clock is the engine's, two minutes ahead).
        verify(request.body, request.headers, { secret, now: Date.now() + 120_000 })
        const event = JSON.parse(request.body.toString('utf8')) as { event: string, data: Record<string, unknown> }
        assert.equal(event.event, 'webhook.disabled')
        const data = event.data
        assert.equal(data.webhook_id, hook.id)
        assert.equal(data.url, hook.url)
        assert.equal(data.reason, 'failing')
        assert.equal(data.disabled_at, disabled.disabledAt?.toISOString())
        assert.ok(typeof data.consecutive_failures === 'number' && data.consecutive_failures >= 20)
        assert.equal(data.last_error, 'server responded 500')
        // "*" does not select it.
        await waitFor('the wildcard webhook to get the 25 call.ended', () => wildcard.requests.length >= 25)
        assert.ok(wildcard.requests.every((r) => r.headers['x-kejue-event'] === 'call.ended'))
      } finally {
        await h.close()
        await Promise.all([failing.close(), watcher.close(), wildcard.close()])
      }
    })

    test('1,000 events while disabled are parked, never held in memory, and all start oldest first once enabled', async () => {
      const receiver = await startReceiver({ respond: () => 200 })
      const h = await harness({ engine: { idlePollMs: 50 } })
      try {
        const hook = await h.addWebhook({ url: receiver.url })
        await h.store.disableWebhook(h.workspaceId, hook.id, 'manual', new Date())
        const ids = await send(h, 1_000)
        assert.equal((await h.store.webhookStats(h.workspaceId, [hook.id])).get(hook.id)?.parkedDeliveries, 1_000)
        assert.equal(h.engine.held(), 0)
        assert.equal(receiver.requests.length, 0)

        await h.store.enableWebhook(h.workspaceId, hook.id, true, new Date())
        await waitFor('1,000 deliveries to succeed', async () =>
          (await h.store.webhookStats(h.workspaceId, [hook.id])).get(hook.id)?.succeededDeliveries === 1_000, 120_000, 100)
        const firstStarts: number[] = []
        const attempts = await h.store.attemptsOf(ids)
        for (const id of ids) firstStarts.push(attempts.get(id)?.[0]?.startedAt.getTime() ?? -1)
        for (let i = 1; i < firstStarts.length; i++) {
          assert.ok((firstStarts[i] ?? 0) >= (firstStarts[i - 1] ?? 0), `event ${i} started no earlier than event ${i - 1}`)
        }
        assert.equal(new Set(receiver.requests.map((r) => r.headers['x-kejue-event-id'])).size, 1_000)
      } finally {
        await h.close()
        await receiver.close()
      }
    })

    test('recover: the dry run counts what the real run requeues; attempt numbers go on under the current schedule', async () => {
      let up = false
      const receiver = await startReceiver({ respond: () => (up ? 200 : 500) })
      const h = await harness({ engine: { breakerThreshold: 0, idlePollMs: 50 } })
      try {
        const hook = await h.addWebhook({ url: receiver.url, maxRetries: 0 })
        const since = new Date(Date.now() - 1_000)
        const ids = await send(h, 6)
        for (const id of ids) await h.waitForDelivery(id, 'failed')
        up = true
        await h.store.updateWebhook(h.workspaceId, hook.id, { retryScheduleMs: [100] }, new Date())
        const window = { workspaceId: h.workspaceId, webhookId: hook.id, since, until: null, retries: 1, status: 'pending' as const, now: new Date() }
        const dry = await h.store.recoverDeliveries({ ...window, dryRun: true })
        assert.equal(dry.matched, 6)
        assert.equal(dry.requeued, 0)
        const run = await h.store.recoverDeliveries({ ...window, dryRun: false })
        assert.equal(run.requeued, dry.matched)
        for (const id of ids) {
          const done = await h.waitForDelivery(id, 'succeeded')
          assert.equal(done.attemptCount, 2)
          assert.equal(done.maxAttempts, 3, 'a fresh series of 1 + 1 attempts')
        }
        assert.ok(receiver.requests.filter((r) => r.headers['x-kejue-attempt'] === '2').length === 6)
      } finally {
        await h.close()
        await receiver.close()
      }
    })

    test('a 503\'s Retry-After lengthens the wait (bounded), a bad one changes nothing, a 429\'s is not honoured; retry_schedule_ms sets the waits', async () => {
      const replies: Record<string, { status: number, headers?: Record<string, string> }> = {
        '/seconds': { status: 503, headers: { 'retry-after': '2' } },
        '/bad': { status: 503, headers: { 'retry-after': 'soon' } },
        '/past': { status: 503, headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' } },
        '/huge': { status: 503, headers: { 'retry-after': '100000' } },
        '/throttled': { status: 429, headers: { 'retry-after': '1' } },
        '/schedule': { status: 503 },
      }
      const receiver = await startReceiver({ respond: (request) => replies[request.path] ?? 404 })
      const h = await harness({ engine: { idlePollMs: 50, breakerThreshold: 0 }, random: () => 0 })
      try {
        const hooks = new Map<string, string>()
        for (const path of Object.keys(replies)) {
          const fields = path === '/schedule' ? { retryScheduleMs: [150, 250] } : { backoffMs: 100, maxRetries: 1 }
          const hook = await h.addWebhook({ url: `http://127.0.0.1:${receiver.port}${path}`, ...fields })
          hooks.set(hook.id, path)
        }
        const ids = await send(h, 1)
        const waits = new Map<string, number | null>()
        await waitFor('every first attempt recorded', async () => {
          for (const delivery of await deliveries(h, ids)) {
            const [first] = await h.store.listAttempts(delivery.id)
            if (first === undefined || delivery.attemptCount === 0) return false
            const path = hooks.get(delivery.webhookId) ?? ''
            waits.set(path, delivery.status === 'pending' && delivery.nextAttemptAt !== null
              ? delivery.nextAttemptAt.getTime() - (first.startedAt.getTime() + first.durationMs)
              : null)
          }
          return true
        })
        assert.equal(waits.get('/seconds'), 2_000, 'max(100, min(2000, 100 + 1 h))')
        assert.equal(waits.get('/bad'), 100)
        assert.equal(waits.get('/past'), 100)
        assert.equal(waits.get('/huge'), 100 + 3_600_000, 'at most an hour more than scheduled')
        assert.equal(waits.get('/throttled'), null, '429 stays permanent')
        assert.equal(waits.get('/schedule'), 150)

        const scheduled = (await deliveries(h, ids)).find((d) => hooks.get(d.webhookId) === '/schedule')
        assert.ok(scheduled !== undefined)
        assert.equal(scheduled.maxAttempts, 3, '1 + the schedule\'s length')
        await h.waitForDelivery(scheduled.id, 'failed', 30_000)
        const attempts = await h.store.listAttempts(scheduled.id)
        assert.equal(attempts.length, 3)
        const [a1, a2, a3] = attempts
        assert.ok(a1 !== undefined && a2 !== undefined && a3 !== undefined)
        assert.ok(a2.startedAt.getTime() - (a1.startedAt.getTime() + a1.durationMs) >= 150)
        assert.ok(a3.startedAt.getTime() - (a2.startedAt.getTime() + a2.durationMs) >= 250)
      } finally {
        await h.close()
        await receiver.close()
      }
    })
  })
}
