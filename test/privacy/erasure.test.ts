/**
 * Erasure end to end on both stores (docs/privacy.md): POST /erasures by contact or job, GET
 * /events/{id} afterwards holds no transcript, name or phone, and deliveries still pending —
 * waiting for a retry, or already claimed and waiting for a slot — are never sent.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startReceiver } from '../helpers/receiver.js'
import type { ReceivedRequest, ReceiverReply } from '../helpers/receiver.js'
import { startSealedStack } from '../helpers/sealed-stack.js'
import type { Driver, SealedStack } from '../helpers/sealed-stack.js'
import { waitFor } from '../helpers/wait-for.js'

const HOUR_MS = 3_600_000
const NAME = 'Janet Personal-Name'
const PHONE = '+15557654321'
const TRANSCRIPT = 'Agent: Hello Janet, about your loan'

function analyzed (jobId: string, contactId: string): Record<string, unknown> {
  return {
    call: { id: jobId, status: 'completed', duration_seconds: 42, transcript: TRANSCRIPT, recording_url: 'https://recordings.kejue.co/x' },
    contact: { id: contactId, name: NAME, phone: PHONE },
    analysis: { summary: `${NAME} asked about a loan`, sentiment: 'positive' },
    persona_id: 'p_1',
  }
}

function ended (jobId: string, contactId: string): Record<string, unknown> {
  return {
    job_id: jobId, contact_id: contactId, status: 'completed', ended_reason: 'agent_hangup', duration_seconds: 42,
    transcript: TRANSCRIPT, recording_url: null, retry: { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 },
  }
}

async function post (stack: SealedStack, event: string, data: Record<string, unknown>): Promise<string> {
  const res = await stack.call('POST', '/api/v1/events', { event, data, metadata: { crm_name: NAME } })
  assert.equal(res.statusCode, 202, res.body)
  return res.json<{ event_id: string }>().event_id
}

function eventIdOf (request: ReceivedRequest): string {
  const id = request.headers['x-kejue-event-id']
  return typeof id === 'string' ? id : ''
}

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`erasure (${driver})`, () => {
    test('an erased event keeps only ids, its pending delivery is never sent, and a retry of it is a 409', async () => {
      // Each event's first attempt fails (500), so its delivery waits an hour for the retry.
      const firstSeen = new Set<string>()
      const receiver = await startReceiver({
        respond: (request) => {
          const id = eventIdOf(request)
          if (firstSeen.has(id)) return 200
          firstSeen.add(id)
          return id.endsWith('control') ? 200 : { status: 500, body: `sorry ${NAME}` }
        },
      })
      const stack = await startSealedStack(driver)
      try {
        const hook = await stack.call('POST', '/api/v1/webhooks', { url: receiver.url, events: ['*'], backoff_ms: HOUR_MS, max_retries: 3 })
        assert.equal(hook.statusCode, 201, hook.body)
        const erasedId = await post(stack, 'call.ended', ended('job_e1', 'ct_erase'))
        const keptId = await post(stack, 'call.ended', ended('job_k1', 'ct_keep'))
        await receiver.waitForRequests(2, 20_000)
        const pendingOf = async (eventId: string): Promise<{ id: string, status: string, last_error: string | null, attempts: Array<{ response_excerpt: string | null }> }> => {
          const res = await stack.call('GET', `/api/v1/events/${eventId}`)
          const [delivery] = res.json<{ deliveries: Array<{ id: string, status: string, last_error: string | null, attempts: Array<{ response_excerpt: string | null }> }> }>().deliveries
          assert.ok(delivery !== undefined)
          return delivery
        }
        const before = await waitFor('the first attempt recorded', async () => {
          const d = await pendingOf(erasedId)
          return d.attempts.length === 1 ? d : null
        }, 20_000)
        assert.equal(before.status, 'pending')
        assert.match(before.attempts[0]?.response_excerpt ?? '', /sorry/)

        const missing = await stack.call('POST', '/api/v1/erasures', {})
        assert.equal(missing.statusCode, 422, missing.body)
        const res = await stack.call('POST', '/api/v1/erasures', { contact_id: 'ct_erase' })
        assert.equal(res.statusCode, 202, res.body)
        const accepted = res.json<{ id: string, events_matched: number }>()
        assert.equal(accepted.events_matched, 1)

        const record = await stack.call('GET', `/api/v1/erasures/${accepted.id}`)
        assert.equal(record.statusCode, 200)
        assert.deepEqual(Object.keys(record.json()).sort(), ['contact_id', 'created_at', 'events_matched', 'id', 'job_id'])
        assert.equal(record.json<{ contact_id: string }>().contact_id, 'ct_erase')

        const shown = await stack.call('GET', `/api/v1/events/${erasedId}`)
        for (const personal of [TRANSCRIPT, NAME, PHONE, 'sorry']) assert.equal(shown.body.includes(personal), false, `${personal} still in GET /events`)
        const envelope = shown.json<{ envelope: { data: Record<string, unknown>, metadata: unknown } }>().envelope
        assert.deepEqual(envelope.data, { job_id: 'job_e1', contact_id: 'ct_erase', erased: true })
        assert.deepEqual(envelope.metadata, {})
        const after = await pendingOf(erasedId)
        assert.equal(after.status, 'failed')
        assert.equal(after.last_error, 'erased')
        const retry = await stack.call('POST', `/api/v1/deliveries/${after.id}/retry`)
        assert.equal(retry.statusCode, 409, retry.body)
        assert.ok((await stack.call('GET', `/api/v1/events/${keptId}`)).body.includes(TRANSCRIPT), 'other contacts keep their data')

        // Two hours later both retries are due; only the kept one goes. A control event sent
        // after that has arrived once the engine has been through everything due.
        stack.advance(2 * HOUR_MS)
        await waitFor('the kept delivery retried', () => receiver.requests.filter((r) => eventIdOf(r) === keptId).length === 2 ? true : null, 20_000)
        const control = await post(stack, 'call.ended', ended('job_c', 'ct_control'))
        await waitFor('the control delivery', () => receiver.requests.some((r) => eventIdOf(r) === control) ? true : null, 20_000)
        assert.equal(receiver.requests.filter((r) => eventIdOf(r) === erasedId).length, 1, 'the erased delivery was never sent again')
      } finally {
        await stack.close()
        await receiver.close()
      }
    })

    test('a delivery already claimed and waiting for a slot is not sent after its event is erased', async () => {
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => { release = resolve })
      const receiver = await startReceiver({
        respond: async (request): Promise<ReceiverReply> => {
          // The first request holds the webhook's only slot until released.
          if (request.index === 0) await held
          return { status: 200 }
        },
      })
      const stack = await startSealedStack(driver, { engine: { maxInFlightPerWebhook: 1, recheckHeldAfterMs: 0 } })
      try {
        const hook = await stack.call('POST', '/api/v1/webhooks', { url: receiver.url, events: ['*'] })
        assert.equal(hook.statusCode, 201, hook.body)
        const blockerId = await post(stack, 'call.ended', ended('job_b', 'ct_blocker'))
        await receiver.waitForRequests(1, 20_000)
        const erasedId = await post(stack, 'call.analyzed', analyzed('job_x', 'ct_x'))
        await waitFor('the second delivery claimed and buffered', () => stack.engine.held() === 2 ? true : null, 20_000)
        const res = await stack.call('POST', '/api/v1/erasures', { job_id: 'job_x' })
        assert.equal(res.json<{ events_matched: number }>().events_matched, 1)
        release()
        const control = await post(stack, 'call.ended', ended('job_c', 'ct_control'))
        await waitFor('the control delivery', () => receiver.requests.some((r) => eventIdOf(r) === control) ? true : null, 20_000)
        assert.deepEqual(receiver.requests.map(eventIdOf).filter((id) => id !== control), [blockerId])
        const shown = await stack.call('GET', `/api/v1/events/${erasedId}`)
        for (const personal of [TRANSCRIPT, NAME, PHONE]) assert.equal(shown.body.includes(personal), false, personal)
        assert.deepEqual(shown.json<{ envelope: { data: unknown } }>().envelope.data, { call: { id: 'job_x' }, contact: { id: 'ct_x' }, persona_id: 'p_1', erased: true })
      } finally {
        release()
        await stack.close()
        await receiver.close()
      }
    })
  })
}
