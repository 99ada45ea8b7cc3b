/**
 * The endpoint-health surface of the API (docs/api.md): the webhook object's health fields,
 * disabling by PATCH (parking), POST /enable (replay or discard), ?status=parked, /test on a
 * disabled webhook, POST /recover, retry_schedule_ms, and the operational webhook.disabled event
 * that producers and inline webhooks cannot use.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Value } from '@sinclair/typebox/value'
import { openApiComponents } from '../../src/api/openapi.js'
import { samplePayload } from '../../src/events/samples.js'
import { createHarness, fieldPaths, PUBLIC_URL } from './harness.js'

interface WebhookJson {
  id: string
  enabled: boolean
  disabled_reason: string | null
  disabled_at: string | null
  health: { consecutive_failures: number, breaker: string, last_success_at: string | null }
  retry_schedule_ms: number[] | null
  delivery_settings: { max_retries: number }
  stats: { parked_deliveries: number }
}

interface PageJson { data: Array<{ id: string, status: string, next_attempt_at: string | null, last_error: string | null }> }

test('a webhook reads back its health; PATCH enabled:false parks its events, /enable replays or discards them', async () => {
  const h = await createHarness()
  try {
    const created = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['call.ended'] })
    assert.equal(created.statusCode, 201, created.body)
    const hook = created.json<WebhookJson>()
    assert.equal(hook.disabled_reason, null)
    assert.equal(hook.disabled_at, null)
    assert.deepEqual(hook.health, { consecutive_failures: 0, breaker: 'closed', last_success_at: null })
    assert.equal(hook.retry_schedule_ms, null)

    const off = await h.call('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: false })
    assert.equal(off.statusCode, 200, off.body)
    assert.equal(off.json<WebhookJson>().disabled_reason, 'manual')
    assert.ok(off.json<WebhookJson>().disabled_at !== null)

    const published = await h.call('POST', '/api/v1/events', { event: 'call.ended', data: samplePayload('call.ended') })
    assert.equal(published.statusCode, 202, published.body)
    assert.equal(published.json<{ deliveries: number }>().deliveries, 1, 'a parked delivery is counted')
    const parked = await h.call('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=parked`)
    assert.equal(parked.json<PageJson>().data.length, 1)
    assert.equal(parked.json<PageJson>().data[0]?.next_attempt_at, null)
    assert.equal((await h.call('GET', '/api/v1/deliveries?status=parked')).json<PageJson>().data.length, 1)
    assert.equal((await h.call('GET', `/api/v1/webhooks/${hook.id}`)).json<WebhookJson>().stats.parked_deliveries, 1)

    const test409 = await h.call('POST', `/api/v1/webhooks/${hook.id}/test`)
    assert.equal(test409.statusCode, 409, test409.body)
    assert.equal(test409.json<{ code: string }>().code, 'CONFLICT')

    const on = await h.call('POST', `/api/v1/webhooks/${hook.id}/enable`)
    assert.equal(on.statusCode, 200, on.body)
    assert.equal(on.json<WebhookJson>().enabled, true)
    assert.equal(on.json<WebhookJson>().disabled_reason, null)
    assert.equal((await h.call('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=pending`)).json<PageJson>().data.length, 1)
    const again = await h.call('POST', `/api/v1/webhooks/${hook.id}/enable`, { replay_parked: false })
    assert.equal(again.statusCode, 200, 'enabling an enabled webhook changes nothing')

    await h.call('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: false })
    await h.call('POST', '/api/v1/events', { event: 'call.ended', data: samplePayload('call.ended') })
    const discarded = await h.call('POST', `/api/v1/webhooks/${hook.id}/enable`, { replay_parked: false })
    assert.equal(discarded.statusCode, 200, discarded.body)
    const failed = (await h.call('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=failed`)).json<PageJson>().data
    // No engine runs here: the replayed one was still pending, so it was parked again with the new one.
    assert.deepEqual(failed.map((d) => d.last_error), ['discarded', 'discarded'])

    // PATCH enabled:true is /enable with replay.
    await h.call('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: false })
    await h.call('POST', '/api/v1/events', { event: 'call.ended', data: samplePayload('call.ended') })
    const patchedOn = await h.call('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true })
    assert.equal(patchedOn.json<WebhookJson>().enabled, true)
    assert.equal((await h.call('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=parked`)).json<PageJson>().data.length, 0)
    assert.equal((await h.call('POST', '/api/v1/webhooks/wh_missing/enable')).statusCode, 404)
  } finally {
    await h.close()
  }
})

test('retry_schedule_ms: 1–20 waits of 100 ms–24 h; max_retries reads as its length; null clears it', async () => {
  const h = await createHarness()
  try {
    for (const bad of [[], [99], [86_400_001], Array(21).fill(1_000), [1.5]]) {
      const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], retry_schedule_ms: bad })
      assert.equal(res.statusCode, 422, `${JSON.stringify(bad)}: ${res.body}`)
      assert.match(res.body, /retry_schedule_ms/)
    }
    const created = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], retry_schedule_ms: [60_000, 3_600_000, 86_400_000] })
    assert.equal(created.statusCode, 201, created.body)
    const hook = created.json<WebhookJson>()
    assert.deepEqual(hook.retry_schedule_ms, [60_000, 3_600_000, 86_400_000])
    assert.equal(hook.delivery_settings.max_retries, 3)
    // A max_retries that disagrees with the schedule would be read back changed: a 422 instead.
    const conflicting = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], retry_schedule_ms: [1_000], max_retries: 3 })
    assert.equal(conflicting.statusCode, 422, conflicting.body)
    assert.deepEqual(fieldPaths(conflicting), ['max_retries'])
    const patchedAlone = await h.call('PATCH', `/api/v1/webhooks/${hook.id}`, { max_retries: 7 })
    assert.equal(patchedAlone.statusCode, 422, patchedAlone.body)
    assert.equal((await h.call('PATCH', `/api/v1/webhooks/${hook.id}`, { max_retries: 3 })).statusCode, 200, 'agreeing is fine')
    const cleared = await h.call('PATCH', `/api/v1/webhooks/${hook.id}`, { retry_schedule_ms: null, max_retries: 5 })
    assert.equal(cleared.json<WebhookJson>().retry_schedule_ms, null)
    assert.equal(cleared.json<WebhookJson>().delivery_settings.max_retries, 5)
  } finally {
    await h.close()
  }
})

test('webhook.disabled: subscribable by name, never by producers or inline webhooks', async () => {
  const h = await createHarness()
  try {
    const sub = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['webhook.disabled'] })
    assert.equal(sub.statusCode, 201, sub.body)
    const posted = await h.call('POST', '/api/v1/events', { event: 'webhook.disabled', data: {} })
    assert.equal(posted.statusCode, 422, posted.body)
    assert.match(posted.body, /event/)
    const call = await h.call('POST', '/api/v1/persona-calls', {
      persona_id: 'per_1',
      contact: { name: 'A', phone: '+15550100' },
      config: { webhooks: [{ url: PUBLIC_URL, events: ['call.ended', 'webhook.disabled'] }] },
    })
    assert.equal(call.statusCode, 422, call.body)
    assert.match(call.body, /config\.webhooks\[0\]\.events\[1\]/)
  } finally {
    await h.close()
  }
})

test('recover: 202 {matched, requeued}; the dry run requeues nothing; the window is checked', async () => {
  const h = await createHarness()
  try {
    const hook = (await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })).json<WebhookJson>()
    const since = new Date(Date.now() - 60_000).toISOString()
    const dry = await h.call('POST', `/api/v1/webhooks/${hook.id}/recover`, { since, dry_run: true })
    assert.equal(dry.statusCode, 202, dry.body)
    assert.deepEqual(dry.json(), { matched: 0, requeued: 0 })
    const bad = await h.call('POST', `/api/v1/webhooks/${hook.id}/recover`, { since, until: since })
    assert.equal(bad.statusCode, 422)
    assert.match(bad.body, /until/)
    const notIso = await h.call('POST', `/api/v1/webhooks/${hook.id}/recover`, { since: 'yesterday' })
    assert.equal(notIso.statusCode, 422)
    assert.match(notIso.body, /since/)
  } finally {
    await h.close()
  }
})

test('the OpenAPI document has /enable and /recover with operationIds, the health fields, and examples that validate', async () => {
  const h = await createHarness()
  try {
    const doc = (await h.call('GET', '/api/v1/openapi.json', undefined, null)).json<{
      paths: Record<string, Record<string, { operationId?: string }>>
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> }
    }>()
    assert.equal(doc.paths['/api/v1/webhooks/{id}/enable']?.post?.operationId, 'enableWebhook')
    assert.equal(doc.paths['/api/v1/webhooks/{id}/recover']?.post?.operationId, 'recoverWebhookDeliveries')
    const webhook = doc.components.schemas.Webhook?.properties ?? {}
    for (const field of ['disabled_reason', 'disabled_at', 'health', 'retry_schedule_ms']) assert.ok(field in webhook, field)
    assert.ok(doc.components.schemas.WebhookDisabledData)
    for (const { name, schema, example } of openApiComponents()) {
      if (example !== undefined) assert.ok(Value.Check(schema, example), `example of ${name}: ${JSON.stringify([...Value.Errors(schema, example)][0])}`)
    }
  } finally {
    await h.close()
  }
})
