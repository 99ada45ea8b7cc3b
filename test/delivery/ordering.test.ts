/**
 * Per-call ordering (docs/delivery.md): 200 calls × 3 events to a receiver that fails 30 % of
 * attempts at random arrive per call in order, and one call whose first delivery hangs holds back
 * only itself. On both stores; on PostgreSQL with two engines on separate connections, as two
 * worker processes would run.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
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
