/**
 * Per-call ordering across worker processes on PostgreSQL: two engine processes share one
 * database; no two events of one call are ever in flight to the webhook at once, and each call's
 * events arrive in order (docs/delivery.md, "Per-call ordering").
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { newId } from '../../src/util/ids.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { dropSchema, randomSchemaName, TEST_DATABASE_URL } from '../helpers/postgres.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'

const CHILD = fileURLToPath(new URL('./engine-child.ts', import.meta.url))
const CALLS = 100
const EVENTS = ['call.started', 'call.ended', 'call.analyzed'] as const
const ANSWER_MS = 30

async function startWorker (schema: string, name: string): Promise<{ child: ChildProcess, output: () => string }> {
  // Breaker off: 20 % random failures would open it now and then; this test is about order.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, `${TEST_DATABASE_URL}#${schema}`, '20000', '5000', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  await waitFor(`${name} to start`, () => out.includes('ready'), 30_000)
  return { child, output: () => out }
}

test(`two worker processes: ${CALLS} calls × 3 events, never two of one call in flight at once, each call in order`, async () => {
  const schema = randomSchemaName()
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })
  const inFlight = new Set<string>()
  const overlaps: string[] = []
  const arrivals = new Map<string, string[]>()
  const receiver = await startReceiver({
    respond: async (request) => {
      const envelope = JSON.parse(request.body.toString('utf8')) as { event: string, data: { job_id?: string, call?: { id?: string } } }
      const job = envelope.data.job_id ?? envelope.data.call?.id ?? ''
      if (inFlight.has(job)) overlaps.push(`${job} ${envelope.event}`)
      inFlight.add(job)
      arrivals.set(job, [...(arrivals.get(job) ?? []), envelope.event])
      // Answered after a while, so overlapping requests of one call would be seen.
      await new Promise((resolve) => setTimeout(resolve, ANSWER_MS))
      inFlight.delete(job)
      return Math.random() < 0.2 ? 503 : 200
    },
  })
  const workers: Array<{ child: ChildProcess, output: () => string }> = []
  try {
    const workspaceId = newId('ws')
    await store.createWorkspace({ id: workspaceId, name: 'ordering', createdAt: new Date() })
    await store.createWebhook(webhookInput(workspaceId, { url: receiver.url, events: [...EVENTS], ordering: 'per_call', maxRetries: 3, backoffMs: 100 }), new Date())
    workers.push(await startWorker(schema, 'w1'), await startWorker(schema, 'w2'))
    await Promise.all(Array.from({ length: CALLS }, async (_, i) => {
      const job = `job_${i}`
      for (const event of EVENTS) {
        const data = event === 'call.analyzed' ? samplePayload(event, { call: { id: job } }) : samplePayload(event, { job_id: job })
        await acceptEvent(store, { workspaceId, event, data: data as unknown as Record<string, unknown> })
      }
    }))
    await waitFor('every delivery to settle', async () => (await store.queueStats(new Date(), new Date(0))).pending === 0, 120_000, 100)

    assert.deepEqual(overlaps, [], 'two events of one call in flight at once')
    for (const [job, events] of arrivals) {
      const order = events.map((e) => EVENTS.indexOf(e as (typeof EVENTS)[number]))
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `${job}: ${events.join(', ')}`)
    }
    assert.equal(arrivals.size, CALLS)
    const counts = await Promise.all(workers.map(async ({ child, output }) => {
      child.kill('SIGTERM')
      await once(child, 'exit')
      return Number(/attempts (\d+)/.exec(output())?.[1] ?? 0)
    }))
    assert.ok(counts.every((n) => n > 0), `both processes delivered: ${counts.join(', ')}`)
    // Every request the receiver got was an attempt one of the two made. Seen once in CI: 379
    // counted, 380 received — an attempt whose result the engine dropped (lease lost) was not
    // counted then; it is now (engine.ts settle()). Should they differ again, the message names
    // any (delivery, attempt) that arrived more than once.
    const seen = new Map<string, number>()
    for (const request of receiver.requests) {
      const key = `${String(request.headers['x-kejue-delivery-id'])} #${String(request.headers['x-kejue-attempt'])}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
    const repeated = [...seen].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`)
    assert.equal(counts.reduce((a, b) => a + b, 0), receiver.requests.length, `attempts counted by the processes: ${counts.join(' + ')}; sent more than once: ${repeated.join(', ') || 'none'}`)
  } finally {
    for (const { child } of workers) if (child.exitCode === null) child.kill('SIGKILL')
    await receiver.close()
    await store.close()
    await dropSchema(schema)
  }
})
