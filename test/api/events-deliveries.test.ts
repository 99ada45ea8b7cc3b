import { test } from 'node:test'
import assert from 'node:assert/strict'
import { samplePayload } from '../../src/events/samples.js'
import { createHarness, fieldPaths, PUBLIC_URL } from './harness.js'
import type { Harness } from './harness.js'

interface DeliveryJson {
  id: string
  event_id: string
  event: string
  webhook_id: string | null
  url: string
  status: string
  attempts: Array<{ attempt: number, started_at: string, duration_ms: number, status_code: number | null, error: string | null, response_excerpt: string | null, request_headers?: Record<string, string> | null }>
  next_attempt_at: string | null
  created_at: string
}
interface PageJson { data: DeliveryJson[], next_cursor: string | null }

async function webhook (h: Harness, body: Record<string, unknown>, key = h.a.key): Promise<string> {
  const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, ...body }, key)
  assert.equal(res.statusCode, 201, res.body)
  return res.json<{ id: string }>().id
}

async function publish (h: Harness, body: Record<string, unknown>, key = h.a.key): Promise<{ event_id: string, deliveries: number }> {
  const res = await h.call('POST', '/api/v1/events', body, key)
  assert.equal(res.statusCode, 202, res.body)
  return res.json()
}

test('POST /events routes to matching webhooks, answers 202 with the count, and is idempotent by event_id', async () => {
  const h = await createHarness()
  try {
    const ended = await webhook(h, { events: ['call.ended'] })
    const all = await webhook(h, { events: ['*'] })
    await webhook(h, { events: ['campaign.ended'] })
    // Disabled: it gets the event parked (counted, not sent).
    const off = await webhook(h, { events: ['call.ended'], enabled: false })
    await webhook(h, { events: ['call.ended'], scope_type: 'persona', persona_id: 'per_other' })

    const data = samplePayload('call.ended')
    const first = await publish(h, { event: 'call.ended', data, metadata: { source: 'test' }, event_id: 'evt_fixed_1', timestamp: '2025-01-15T10:30:00Z' })
    assert.deepEqual(first, { event_id: 'evt_fixed_1', deliveries: 3 })
    const again = await publish(h, { event: 'call.ended', data, event_id: 'evt_fixed_1' })
    assert.deepEqual(again, first, 'a repeated event_id returns the same answer')
    const replayedOtherBody = await publish(h, { event: 'campaign.paused', data: {}, event_id: 'evt_fixed_1' })
    assert.deepEqual(replayedOtherBody, first, 'even when the replayed body differs (or would not validate)')
    const page = (await h.call('GET', '/api/v1/deliveries')).json<PageJson>()
    assert.equal(page.data.length, 3, 'and creates no new deliveries')
    assert.deepEqual(page.data.map((d) => d.webhook_id).sort(), [ended, all, off].sort())

    const generated = await publish(h, { event: 'campaign.ended', data: samplePayload('campaign.ended') })
    assert.match(generated.event_id, /^evt_/)
    assert.equal(generated.deliveries, 2)

    const event = await h.call('GET', '/api/v1/events/evt_fixed_1')
    assert.equal(event.statusCode, 200, event.body)
    const json = event.json<{ event_id: string, event: string, envelope: Record<string, unknown>, deliveries: DeliveryJson[] }>()
    assert.equal(json.event, 'call.ended')
    assert.deepEqual(json.envelope, {
      event: 'call.ended',
      event_id: 'evt_fixed_1',
      workspace_id: h.a.id,
      timestamp: '2025-01-15T10:30:00.000Z',
      data,
      metadata: { source: 'test' },
    })
    assert.equal(json.deliveries.length, 3)
    const sent = json.deliveries.filter((d) => d.status !== 'parked')
    assert.equal(sent.length, 2)
    assert.ok(sent.every((d) => d.event_id === 'evt_fixed_1' && d.status === 'pending' && d.next_attempt_at !== null))
  } finally {
    await h.close()
  }
})

test('POST /events refuses bad events with 422 naming each field', async () => {
  const h = await createHarness()
  try {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ event: 'call.exploded', data: {} }, ['event']],
      [{ event: '*', data: {} }, ['event']],
      [{ data: {} }, ['event']],
      [{ event: 'call.ended' }, ['data']],
      [{ event: 'call.ended', data: [] }, ['data']],
      [{ event: 'call.ended', data: { ...samplePayload('call.ended'), status: 'exploded' } }, ['data.status']],
      [{ event: 'call.ended', data: samplePayload('call.ended'), event_id: 'not-an-event-id' }, ['event_id']],
      [{ event: 'call.ended', data: samplePayload('call.ended'), timestamp: 'yesterday' }, ['timestamp']],
      [{ event: 'call.ended', data: samplePayload('call.ended'), metadata: 'x' }, ['metadata']],
      [{ event: 'call.ended', data: samplePayload('call.ended'), workspace_id: 'ws_other' }, ['workspace_id']],
    ]
    for (const [body, paths] of cases) {
      const res = await h.call('POST', '/api/v1/events', body)
      assert.equal(res.statusCode, 422, `${JSON.stringify(body)}: ${res.body}`)
      assert.equal(res.json<{ code: string }>().code, 'VALIDATION')
      for (const path of paths) assert.ok(fieldPaths(res).includes(path), `${path} in ${res.body}`)
    }
    const retry = await h.call('POST', '/api/v1/events', { event: 'call.ended', data: { ...samplePayload('call.ended'), retry: { will_retry: false, next_retry_at: null, attempt_number: 'one', max_attempts: 3 } } })
    assert.ok(fieldPaths(retry).includes('data.retry.attempt_number'), retry.body)
    assert.equal((await h.call('GET', '/api/v1/deliveries')).json<PageJson>().data.length, 0)
  } finally {
    await h.close()
  }
})

test('deliveries: filters, newest first, cursor pages, one delivery with its attempts, retry', async () => {
  const h = await createHarness()
  try {
    const ended = await webhook(h, { events: ['call.ended'], max_retries: 1 })
    const campaigns = await webhook(h, { events: ['campaign.ended'] })
    for (let i = 0; i < 3; i++) await publish(h, { event: 'call.ended', data: samplePayload('call.ended') })
    await publish(h, { event: 'campaign.ended', data: samplePayload('campaign.ended') })

    const all = (await h.call('GET', '/api/v1/deliveries')).json<PageJson>()
    assert.equal(all.data.length, 4)
    assert.equal(all.next_cursor, null)
    assert.equal(all.data[0]?.event, 'campaign.ended', 'newest first')
    assert.equal((await h.call('GET', '/api/v1/deliveries?event=campaign.ended')).json<PageJson>().data.length, 1)
    assert.equal((await h.call('GET', `/api/v1/deliveries?webhook_id=${ended}`)).json<PageJson>().data.length, 3)
    assert.equal((await h.call('GET', `/api/v1/webhooks/${campaigns}/deliveries`)).json<PageJson>().data.length, 1)
    assert.equal((await h.call('GET', '/api/v1/deliveries?status=succeeded')).json<PageJson>().data.length, 0)

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/api/v1/deliveries?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      const page: PageJson = (await h.call('GET', url)).json<PageJson>()
      assert.ok(page.data.length <= 3)
      seen.push(...page.data.map((d) => d.id))
      cursor = page.next_cursor
    } while (cursor !== null)
    assert.deepEqual(seen, all.data.map((d) => d.id), 'pages walk every delivery once, in order')

    for (const query of ['limit=0', 'limit=101', 'limit=x', 'status=done', 'event=call.exploded', 'colour=red']) {
      const res = await h.call('GET', `/api/v1/deliveries?${query}`)
      assert.equal(res.statusCode, 422, query)
      assert.equal(fieldPaths(res).length, 1, query)
    }

    // One attempt made through the store, as the engine makes it: a 503, so a retry is due.
    const [claimed] = await h.store.claimDue({ now: new Date(), limit: 1, leaseMs: 10_000, owner: 'test', excludeWebhookIds: [campaigns] })
    assert.ok(claimed !== undefined)
    const retryAt = new Date(Date.now() + 60_000)
    await h.store.completeAttempts([{
      deliveryId: claimed.deliveryId,
      leaseToken: claimed.leaseToken,
      attempt: { attempt: 1, startedAt: new Date(), durationMs: 12, statusCode: 503, error: 'HTTP 503', responseExcerpt: 'busy' },
      settlement: { status: 'pending', nextAttemptAt: retryAt },
    }], new Date())
    const one = await h.call('GET', `/api/v1/deliveries/${claimed.deliveryId}`)
    assert.equal(one.statusCode, 200)
    const d = one.json<DeliveryJson>()
    assert.equal(d.status, 'pending')
    assert.equal(d.next_attempt_at, retryAt.toISOString())
    assert.equal(d.attempts.length, 1)
    assert.deepEqual({ ...d.attempts[0], started_at: undefined, request_headers: undefined }, { attempt: 1, started_at: undefined, duration_ms: 12, status_code: 503, error: 'HTTP 503', response_excerpt: 'busy', request_headers: undefined })
    // The headers it was sent with, the signature masked (docs/api.md, "request_headers").
    const sent = d.attempts[0]?.request_headers
    assert.equal(sent?.['X-Kejue-Attempt'], '1')
    assert.equal(sent?.['X-Kejue-Delivery-Id'], claimed.deliveryId)
    assert.equal(sent?.['X-Kejue-Signature'], 'sha256=••••••')

    const retried = await h.call('POST', `/api/v1/deliveries/${claimed.deliveryId}/retry`)
    assert.equal(retried.statusCode, 202, retried.body)
    const r = retried.json<DeliveryJson>()
    assert.equal(r.id, claimed.deliveryId)
    assert.ok(r.next_attempt_at !== null && Date.parse(r.next_attempt_at) <= Date.now() + 1000, 'due now')

    assert.equal((await h.call('GET', '/api/v1/deliveries/dlv_unknown')).statusCode, 404)
    assert.equal((await h.call('POST', '/api/v1/deliveries/dlv_unknown/retry')).statusCode, 404)
    assert.equal((await h.call('GET', '/api/v1/events/evt_unknown')).statusCode, 404)
    assert.equal((await h.call('GET', '/api/v1/webhooks/wh_unknown/deliveries')).statusCode, 404)
  } finally {
    await h.close()
  }
})

test('a workspace never sees another workspace\'s events or deliveries', async () => {
  const h = await createHarness()
  try {
    await webhook(h, { events: ['*'] })
    await webhook(h, { events: ['*'] }, h.b.key)
    const mine = await publish(h, { event: 'call.ended', data: samplePayload('call.ended'), event_id: 'evt_shared_id' })
    assert.equal(mine.deliveries, 1)
    const delivery = (await h.call('GET', '/api/v1/deliveries')).json<PageJson>().data[0]
    assert.ok(delivery !== undefined)

    assert.deepEqual((await h.call('GET', '/api/v1/deliveries', undefined, h.b.key)).json<PageJson>().data, [])
    assert.equal((await h.call('GET', `/api/v1/deliveries/${delivery.id}`, undefined, h.b.key)).statusCode, 404)
    assert.equal((await h.call('POST', `/api/v1/deliveries/${delivery.id}/retry`, undefined, h.b.key)).statusCode, 404)
    assert.equal((await h.call('GET', '/api/v1/events/evt_shared_id', undefined, h.b.key)).statusCode, 404)
    assert.equal((await h.call('GET', `/api/v1/deliveries?webhook_id=${delivery.webhook_id ?? ''}`, undefined, h.b.key)).json<PageJson>().data.length, 0)

    // The same event id in another workspace is another event: idempotency is per workspace.
    const theirs = await publish(h, { event: 'call.ended', data: samplePayload('call.ended'), event_id: 'evt_shared_id' }, h.b.key)
    assert.equal(theirs.deliveries, 1)
    const envelope = (await h.call('GET', '/api/v1/events/evt_shared_id', undefined, h.b.key)).json<{ envelope: { workspace_id: string } }>().envelope
    assert.equal(envelope.workspace_id, h.b.id)
  } finally {
    await h.close()
  }
})

test('retrying a delivery whose webhook was deleted is a 409, and adds no attempt', async () => {
  const h = await createHarness()
  try {
    const id = await webhook(h, { events: ['call.ended'] })
    await publish(h, { event: 'call.ended', data: samplePayload('call.ended') })
    const [delivery] = (await h.call('GET', '/api/v1/deliveries')).json<PageJson>().data
    assert.ok(delivery !== undefined)
    assert.equal((await h.call('DELETE', `/api/v1/webhooks/${id}`)).statusCode, 204)
    const retried = await h.call('POST', `/api/v1/deliveries/${delivery.id}/retry`)
    assert.equal(retried.statusCode, 409, retried.body)
    assert.equal(retried.json<{ code: string }>().code, 'CONFLICT')
    const after = (await h.call('GET', `/api/v1/deliveries/${delivery.id}`)).json<DeliveryJson>()
    assert.equal(after.status, 'failed')
    assert.equal(after.attempts.length, 0)
  } finally {
    await h.close()
  }
})

test('a cursor that no page gave is a 422 naming the cursor', async () => {
  const h = await createHarness()
  try {
    const res = await h.call('GET', '/api/v1/deliveries?cursor=garbage')
    assert.equal(res.statusCode, 422, res.body)
    assert.deepEqual(fieldPaths(res), ['cursor'])
  } finally {
    await h.close()
  }
})
