/**
 * Filters, custom headers and Standard Webhooks signing as receivers see them, on both stores.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { generateSecret } from '../../src/api/webhook-input.js'
import { verify } from '../../src/receiver/index.js'
import { STORE_KINDS, startStack } from '../helpers/both-stores.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'

function record (data: unknown): Record<string, unknown> {
  return data as Record<string, unknown>
}

for (const kind of STORE_KINDS) {
  test(`${kind}: filters on data.status and data.call.score deliver exactly the matching events; a test send ignores them`, async () => {
    const stack = await startStack(kind)
    const receiver = await startReceiver({ respond: [200] })
    try {
      const completed = await stack.addWebhook({ url: `${receiver.url}/completed`, events: ['call.ended'], filter: { 'data.status': 'completed' } })
      const scored = await stack.addWebhook({ url: `${receiver.url}/scored`, events: ['call.analyzed'], filter: { 'data.call.score': { gte: 80 } } })
      const statuses = ['completed', 'no_answer', 'completed', 'voicemail', 'busy']
      const scores = [95, 80, 79.5, 10, 100]
      let created = 0
      for (const [i, status] of statuses.entries()) {
        const accepted = await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data: record(samplePayload('call.ended', { job_id: `job_e${i}`, status })) })
        created += accepted.deliveries
      }
      for (const [i, score] of scores.entries()) {
        const accepted = await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.analyzed', data: record(samplePayload('call.analyzed', { call: { id: `job_a${i}`, score } })) })
        created += accepted.deliveries
      }
      assert.equal(created, 2 + 3, 'a non-matching event creates no delivery')
      // A test send goes whatever the filter.
      await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data: record(samplePayload('call.ended', { status: 'failed' })), onlyWebhook: completed })
      const requests = await receiver.waitForRequests(6, 30_000)
      const seen = requests.map((r) => ({ path: r.path, data: (JSON.parse(r.body.toString('utf8')) as { data: { status?: string, call?: { score?: number } } }).data }))
      assert.deepEqual(seen.filter((r) => r.path.endsWith('/completed')).map((r) => r.data.status).sort(), ['completed', 'completed', 'failed'])
      assert.deepEqual(seen.filter((r) => r.path.endsWith('/scored')).map((r) => r.data.call?.score).sort(), [100, 80, 95])
      assert.ok(scored.filter !== null)
    } finally {
      await receiver.close()
      await stack.close()
    }
  })

  test(`${kind}: custom headers arrive on every attempt, beside the service's own`, async () => {
    const stack = await startStack(kind)
    const receiver = await startReceiver({ respond: [503, 200] })
    try {
      const webhook = await stack.addWebhook({ url: receiver.url, events: ['*'], maxRetries: 1, backoffMs: 100, headers: { 'X-Tenant': 'acme', 'X-Api-Gateway-Key': 'gw-123' } })
      await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data: record(samplePayload('call.ended')) })
      const [first, second] = await receiver.waitForRequests(2, 30_000)
      for (const request of [first, second]) {
        assert.equal(request?.headers['x-tenant'], 'acme')
        assert.equal(request?.headers['x-api-gateway-key'], 'gw-123')
        assert.match(String(request?.headers['x-kejue-signature']), /^sha256=/)
        assert.equal(request?.headers['content-type'], 'application/json')
      }
      assert.equal(second?.headers['x-kejue-attempt'], '2')
      assert.ok(webhook.headers !== null)
    } finally {
      await receiver.close()
      await stack.close()
    }
  })

  test(`${kind}: a standard_webhooks delivery and its retry verify with the standardwebhooks library and our receiver`, async () => {
    const stack = await startStack(kind)
    const receiver = await startReceiver({ respond: [503, 200] })
    try {
      const secret = generateSecret('standard_webhooks')
      await stack.addWebhook({ url: receiver.url, events: ['*'], signingMethod: 'standard_webhooks', secret, maxRetries: 1, backoffMs: 100 })
      const accepted = await acceptEvent(stack.store, { workspaceId: stack.workspaceId, event: 'call.ended', data: record(samplePayload('call.ended')) })
      const requests = await receiver.waitForRequests(2, 30_000)
      const library = new StandardWebhook(secret)
      for (const request of requests) {
        const headers = {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }
        assert.equal(headers['webhook-id'], accepted.deliveryIds[0], 'webhook-id is the delivery id')
        assert.match(headers['webhook-timestamp'], /^\d{10}$/, 'Unix seconds')
        assert.deepEqual(library.verify(request.body.toString('utf8'), headers), JSON.parse(request.body.toString('utf8')))
        assert.equal(verify(request.body, request.headers, { method: 'standard_webhooks', secret }).event_id, accepted.eventId)
        assert.equal(request.headers['x-kejue-signature'], undefined)
      }
      // Tampering is caught by both.
      const [request] = requests
      assert.ok(request)
      const tampered = request.body.toString('utf8').replace('call.ended', 'call.endeD')
      assert.throws(() => library.verify(tampered, request.headers as Record<string, string>))
      assert.throws(() => verify(tampered, request.headers, { method: 'standard_webhooks', secret }), { code: 'SIGNATURE_MISMATCH' })
      await waitFor('the retry to be recorded', async () => (await stack.store.queueStats(new Date(), new Date(0))).pending === 0, 30_000)
    } finally {
      await receiver.close()
      await stack.close()
    }
  })
}
