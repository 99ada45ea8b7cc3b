import { test } from 'node:test'
import assert from 'node:assert/strict'
import { samplePayload } from '../../src/events/samples.js'
import { createHarness, fieldPaths, PUBLIC_URL } from './harness.js'

const INLINE_URL = 'https://93.184.216.35/inline'

test('a call with inline webhooks gets its call events delivered to those only (webhook_id null)', async () => {
  const h = await createHarness()
  try {
    const subscription = (await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })).json<{ id: string }>().id
    const res = await h.call('POST', '/api/v1/persona-calls', {
      contact_id: 'ct_789',
      persona_id: 'per_abc',
      priority: 'high',
      config: {
        language: 'en',
        webhooks: [
          { url: INLINE_URL, events: ['call.ended', 'call.analyzed'], signing_method: 'hmac_sha256', secret: 'your-secret-key' },
          { url: INLINE_URL, events: ['call.started'], signing_method: 'none' },
        ],
      },
    })
    assert.equal(res.statusCode, 201, res.body)
    const call = res.json<{ job_id: string, status: string, persona_id: string, contact_id: string, webhooks: number }>()
    assert.match(call.job_id, /^job_/)
    assert.deepEqual({ ...call, job_id: undefined }, { job_id: undefined, status: 'queued', persona_id: 'per_abc', contact_id: 'ct_789', webhooks: 2 })
    assert.ok(!res.body.includes('your-secret-key'))
    assert.equal((await h.call('GET', '/api/v1/webhooks')).json<unknown[]>().length, 1, 'inline webhooks are not subscriptions')

    const ended = await h.call('POST', '/api/v1/events', { event: 'call.ended', data: samplePayload('call.ended', { job_id: call.job_id }) })
    assert.equal(ended.json<{ deliveries: number }>().deliveries, 1)
    const deliveries = (await h.call('GET', '/api/v1/deliveries')).json<{ data: Array<{ webhook_id: string | null, url: string }> }>().data
    assert.deepEqual(deliveries.map((d) => [d.webhook_id, d.url]), [[null, INLINE_URL]])

    // Campaign events are not affected; other calls go to subscriptions.
    await h.call('POST', '/api/v1/events', { event: 'campaign.ended', data: samplePayload('campaign.ended') })
    await h.call('POST', '/api/v1/events', { event: 'call.ended', data: samplePayload('call.ended', { job_id: 'job_other' }) })
    const after = (await h.call('GET', `/api/v1/deliveries?webhook_id=${subscription}`)).json<{ data: unknown[] }>().data
    assert.equal(after.length, 2)

    const contact = await h.call('POST', '/api/v1/persona-calls', { persona_id: 'per_abc', contact: { name: 'John Doe', phone: '+14155551234' } })
    assert.equal(contact.statusCode, 201, contact.body)
    assert.match(contact.json<{ contact_id: string }>().contact_id, /^ct_/)
    assert.equal(contact.json<{ webhooks: number }>().webhooks, 0)
  } finally {
    await h.close()
  }
})

test('POST /persona-calls checks the body and each inline webhook like a webhook create', async () => {
  const h = await createHarness()
  try {
    const cases: Array<[Record<string, unknown>, string[], string?]> = [
      [{ contact_id: 'ct_1' }, ['persona_id']],
      [{ persona_id: 'per_1' }, ['contact_id']],
      [{ persona_id: 'per_1', contact: { name: 'x' } }, ['contact.phone']],
      [{ persona_id: 'per_1', contact_id: 'ct_1', contact: { id: 'ct_2', name: 'x', phone: '1' } }, ['contact.id']],
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: 'ftp://x', events: ['call.ended'], secret: 's' }] } }, ['config.webhooks[0].url']],
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: INLINE_URL, events: ['call.ended'], secret: 's' }, { url: INLINE_URL, events: ['nope'], secret: 's' }] } }, ['config.webhooks[1].events[0]']],
      // The spec's four fields only (contract §6): delivery settings and the rest are refused by name.
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: INLINE_URL, events: ['*'], secret: 's', timeout_ms: 2000 }] } }, ['config.webhooks[0].timeout_ms']],
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: INLINE_URL, events: ['*'], secret: 's', name: 'x' }] } }, ['config.webhooks[0].name']],
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: INLINE_URL, events: ['*'], signing_method: 'basic_auth' }] } }, ['config.webhooks[0].secret']],
      // Nothing would return a generated secret: the receiver could never verify.
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: INLINE_URL, events: ['*'] }] } }, ['config.webhooks[0].secret']],
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: INLINE_URL, events: ['*'], signing_method: 'standard_webhooks' }] } }, ['config.webhooks[0].secret']],
      [{ persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: 'http://localhost/x', events: ['*'], secret: 's' }] } }, ['config.webhooks[0].url'], 'DESTINATION_NOT_ALLOWED'],
    ]
    for (const [body, paths, code] of cases) {
      const res = await h.call('POST', '/api/v1/persona-calls', body)
      assert.equal(res.statusCode, 422, `${JSON.stringify(body)}: ${res.body}`)
      assert.equal(res.json<{ code: string }>().code, code ?? 'VALIDATION')
      assert.deepEqual(fieldPaths(res), paths, JSON.stringify(body))
    }
    assert.equal((await h.call('POST', '/api/v1/persona-calls', { persona_id: 'per_1', contact_id: 'c' }, h.adminKey)).statusCode, 403)
  } finally {
    await h.close()
  }
})
