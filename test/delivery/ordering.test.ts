/**
 * Per-call ordering (docs/delivery.md): 200 calls × 3 events to a receiver that fails 30 % of
 * attempts at random arrive per call in order, and one call whose first delivery hangs holds back
 * only itself. On both stores; on PostgreSQL with two engines on separate connections, as two
 * worker processes would run. Deliveries that come back in bulk — POST /enable replaying parked
 * ones, POST /recover — arrive per call in order too, driven through the API.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createLogger } from '../../src/util/logger.js'
import { USER_AGENT } from '../../src/util/version.js'
import { createHarness } from '../api/harness.js'
import { samplePayload } from '../../src/events/samples.js'
import { STORE_KINDS, startStack } from '../helpers/both-stores.js'
import { startReceiver } from '../helpers/receiver.js'
import type { ReceivedRequest } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'

const CALLS = 200
const EVENTS = ['call.started', 'call.ended', 'call.analyzed'] as const
const DEAD_JOB = 'job_dead'

interface Parsed { job: string, event: string }

function parse (request: ReceivedRequest): Parsed {
  const envelope = JSON.parse(request.body.toString('utf8')) as { event: string, data: { job_id?: string, call?: { id?: string } } }
  return { job: envelope.data.job_id ?? envelope.data.call?.id ?? '', event: envelope.event }
}

function dataFor (event: (typeof EVENTS)[number], job: string): Record<string, unknown> {
  return event === 'call.analyzed'
    ? samplePayload(event, { call: { id: job } }) as unknown as Record<string, unknown>
    : samplePayload(event, { job_id: job }) as unknown as Record<string, unknown>
}

for (const kind of STORE_KINDS) {
  test(`${kind}: ${CALLS} calls × 3 events arrive per call in order through 30 % failures, and a hanging call holds back only itself`, async () => {
    // Breaker off: 30 % failures in a row would open it, and this is about ordering, not health.
    const stack = await startStack(kind, { engines: kind === 'postgres' ? 2 : 1, engine: { breakerThreshold: 0 } })
    let releaseDead: () => void = () => {}
    const deadReleased = new Promise<void>((resolve) => { releaseDead = resolve })
    let releasedByOthers = false
    const receiver = await startReceiver({
      respond: async (request) => {
        const { job, event } = parse(request)
        if (job === DEAD_JOB && event === 'call.started') {
          // Hangs until every other call is done (or 25 s, which would fail the test below).
          await Promise.race([deadReleased, new Promise((resolve) => setTimeout(resolve, 25_000))])
          return 200
        }
        return Math.random() < 0.3 ? 503 : 200
      },
    })
    try {
      await stack.addWebhook({ url: receiver.url, events: [...EVENTS], ordering: 'per_call', maxRetries: 3, backoffMs: 100, timeoutMs: 30_000 })
      const jobs = [DEAD_JOB, ...Array.from({ length: CALLS }, (_, i) => `job_${String(i).padStart(3, '0')}`)]
      // Each call's events are accepted in order; calls interleave.
      await Promise.all(jobs.map(async (job) => {
        for (const event of EVENTS) {
          await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event, data: dataFor(event, job) })
        }
      }))

      // Every other call settles all three deliveries while the dead call's first is still out.
      await waitFor('every call but the hanging one to settle', async () => {
        const { pending } = await stack.store.queueStats(new Date(), new Date(0))
        return pending === EVENTS.length
      }, 120_000, 100)
      releasedByOthers = true
      releaseDead()
      await waitFor('the hanging call to settle too', async () => (await stack.store.queueStats(new Date(), new Date(0))).pending === 0, 60_000, 100)
      assert.ok(releasedByOthers)

      const byJob = new Map<string, Parsed[]>()
      for (const request of [...receiver.requests].sort((a, b) => a.index - b.index)) {
        const parsed = parse(request)
        byJob.set(parsed.job, [...(byJob.get(parsed.job) ?? []), parsed])
      }
      assert.equal(byJob.size, jobs.length)
      for (const [job, requests] of byJob) {
        const order = requests.map((r) => EVENTS.indexOf(r.event as (typeof EVENTS)[number]))
        // Retries of one event come together; the next event only after it settled.
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `${job}: ${requests.map((r) => r.event).join(', ')}`)
        assert.deepEqual([...new Set(order)], [0, 1, 2], `${job} got all three events`)
      }
      // (Its later events may have been retried: the order is what counts.)
      const dead = byJob.get(DEAD_JOB)?.map((r) => r.event) ?? []
      assert.deepEqual([...new Set(dead)], [...EVENTS], 'the hanging call went on, in order, once answered')
      assert.equal(dead[0], 'call.started')
    } finally {
      releaseDead()
      await receiver.close()
      await stack.close()
    }
  })
}

/** Each call's events in arrival order must be in EVENTS order (retries of one event together), all three there. */
function assertInOrder (requests: readonly ReceivedRequest[], jobs: readonly string[]): void {
  const byJob = new Map<string, Parsed[]>()
  for (const request of [...requests].sort((a, b) => a.index - b.index)) {
    const parsed = parse(request)
    byJob.set(parsed.job, [...(byJob.get(parsed.job) ?? []), parsed])
  }
  assert.deepEqual([...byJob.keys()].sort(), [...jobs].sort())
  for (const [job, got] of byJob) {
    const order = got.map((r) => EVENTS.indexOf(r.event as (typeof EVENTS)[number]))
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `${job}: ${got.map((r) => r.event).join(', ')}`)
    assert.deepEqual([...new Set(order)], [0, 1, 2], `${job} got all three events`)
  }
}

for (const kind of STORE_KINDS) {
  test(`${kind}: through the API, parked deliveries replayed by /enable and failed ones requeued by /recover arrive per call in order`, async () => {
    const h = await createHarness({ allowPrivateNetworks: true, driver: kind })
    const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
    // Breaker off: the recover phase fails every delivery first, and this is about ordering.
    const engine = createEngine({ idlePollMs: 50, breakerThreshold: 0 }, { store: h.store, sender, logger: createLogger({ level: 'silent' }) })
    // 'flaky': a call.started delivery is refused once (503, retried 100 ms later), so a call's
    // later events would overtake it if they were due together; 'down': 400, failed for good.
    let mode: 'flaky' | 'down' = 'flaky'
    const refused = new Set<string>()
    const receiver = await startReceiver({
      respond: (request) => {
        if (mode === 'down') return 400
        const id = String(request.headers['x-kejue-delivery-id'])
        if (parse(request).event !== 'call.started' || refused.has(id)) return 200
        refused.add(id)
        return 503
      },
    })
    const post = async (event: (typeof EVENTS)[number], job: string): Promise<void> => {
      const res = await h.call('POST', '/api/v1/events', { event, data: dataFor(event, job) })
      assert.equal(res.statusCode, 202, res.body)
    }
    const settled = async (what: string): Promise<void> => {
      await waitFor(what, async () => (await h.store.queueStats(new Date(), new Date(0))).pending === 0, 60_000, 50)
    }
    engine.start()
    try {
      const created = await h.call('POST', '/api/v1/webhooks', {
        url: receiver.url, events: [...EVENTS], ordering: 'per_call', max_retries: 3, backoff_ms: 100,
      })
      assert.equal(created.statusCode, 201, created.body)
      const id = created.json<{ id: string }>().id
      const replayJobs = ['job_r1', 'job_r2', 'job_r3']

      // Disabled: call.started and call.ended of each call are parked, calls interleaved.
      assert.equal((await h.call('PATCH', `/api/v1/webhooks/${id}`, { enabled: false })).statusCode, 200)
      for (const event of ['call.started', 'call.ended'] as const) for (const job of replayJobs) await post(event, job)
      const parked = await h.call('GET', `/api/v1/deliveries?status=parked&webhook_id=${id}`)
      assert.equal(parked.json<{ data: unknown[] }>().data.length, 6)
      assert.equal((await h.call('POST', `/api/v1/webhooks/${id}/enable`)).statusCode, 200)
      // Accepted after the enable: behind the replayed ones of its call.
      for (const job of replayJobs) await post('call.analyzed', job)
      await settled('the replayed calls to settle')
      assertInOrder(receiver.requests, replayJobs)
      assert.equal(refused.size, replayJobs.length, 'each call.started was refused once')

      // Every event of three more calls fails for good, then /recover requeues them all at once.
      mode = 'down'
      const since = new Date().toISOString()
      const recoverJobs = ['job_c1', 'job_c2', 'job_c3']
      for (const event of EVENTS) for (const job of recoverJobs) await post(event, job)
      await settled('the failing calls to fail')
      const mark = receiver.requests.length
      mode = 'flaky'
      const recovered = await h.call('POST', `/api/v1/webhooks/${id}/recover`, { since })
      assert.equal(recovered.statusCode, 202, recovered.body)
      assert.deepEqual(recovered.json(), { matched: 9, requeued: 9 })
      await settled('the recovered calls to settle')
      assertInOrder(receiver.requests.filter((r) => r.index >= mark), recoverJobs)
    } finally {
      await engine.stop(1_000)
      await sender.close()
      await receiver.close()
      await h.close()
    }
  })
}

test('a test send to an ordered webhook goes at once, outside its call\'s queue', async () => {
  const stack = await startStack('sqlite', { engines: 0 })
  try {
    const webhook = await stack.addWebhook({ url: 'http://127.0.0.1:9/hooks', events: [...EVENTS], ordering: 'per_call' })
    const data = dataFor('call.ended', 'job_123')
    const first = await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data })
    const queued = await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data })
    const test = await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data, onlyWebhook: webhook })
    const due = async (id: string | undefined) => (await stack.store.getDelivery(stack.workspaceId, id ?? ''))?.nextAttemptAt !== null
    assert.deepEqual([await due(first.deliveryIds[0]), await due(queued.deliveryIds[0]), await due(test.deliveryIds[0])], [true, false, true])
  } finally {
    await stack.close()
  }
})
