/**
 * A page of the delivery log costs a fixed number of store calls, whatever its size: the
 * attempts of every delivery on it come from one `attemptsOf` call (it was one query per delivery).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { samplePayload } from '../../src/events/samples.js'
import type { Store } from '../../src/store/store.js'
import { createHarness, PUBLIC_URL } from './harness.js'

/** Counts calls to the store's methods; the store itself answers (a real SQLite file). */
function countCalls (store: Store): { counts: Map<string, number>, reset (): void } {
  const counts = new Map<string, number>()
  for (const name of ['listAttempts', 'attemptsOf', 'listDeliveries'] as const) {
    const original = store[name].bind(store) as (...args: unknown[]) => unknown
    Object.assign(store, { [name]: (...args: unknown[]) => { counts.set(name, (counts.get(name) ?? 0) + 1); return original(...args) } })
  }
  return { counts, reset: () => { counts.clear() } }
}

test('GET /deliveries?limit=100 and GET /events/{id} read attempts with one store call, not one per delivery', async () => {
  const h = await createHarness()
  try {
    for (let i = 0; i < 5; i++) {
      const res = await h.call('POST', '/api/v1/webhooks', { url: `${PUBLIC_URL}/${i}`, events: ['call.ended'] })
      assert.equal(res.statusCode, 201, res.body)
    }
    let eventId = ''
    for (let i = 0; i < 24; i++) {
      const res = await h.call('POST', '/api/v1/events', { event: 'call.ended', data: samplePayload('call.ended') })
      assert.equal(res.statusCode, 202, res.body)
      eventId = res.json<{ event_id: string }>().event_id
    }
    const calls = countCalls(h.store)
    const page = await h.call('GET', '/api/v1/deliveries?limit=100')
    assert.equal(page.statusCode, 200, page.body)
    assert.equal(page.json<{ data: Array<{ attempts: unknown[] }> }>().data.length, 100)
    assert.deepEqual(Object.fromEntries(calls.counts), { listDeliveries: 1, attemptsOf: 1 })

    calls.reset()
    const event = await h.call('GET', `/api/v1/events/${eventId}`)
    assert.equal(event.statusCode, 200, event.body)
    assert.equal(event.json<{ deliveries: unknown[] }>().deliveries.length, 5)
    assert.deepEqual(Object.fromEntries(calls.counts), { listDeliveries: 1, attemptsOf: 1 })
  } finally {
    await h.close()
  }
})
