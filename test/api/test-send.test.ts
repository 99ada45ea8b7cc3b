/**
 * POST /webhooks/{id}/test with the real engine and a real receiver on 127.0.0.1: the answer is
 * the delivery after its first attempt, whatever the receiver said.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createLogger } from '../../src/util/logger.js'
import { createHarness } from './harness.js'

interface DeliveryJson {
  id: string
  event: string
  webhook_id: string
  status: string
  attempts: Array<{ attempt: number, status_code: number | null, response_excerpt: string | null }>
}

test('a test send delivers a sample event now and returns the delivery with its first attempt', { timeout: 120_000 }, async () => {
  const h = await createHarness({ allowPrivateNetworks: true })
  const bodies: Array<{ event: string, metadata: unknown }> = []
  let status = 200
  const receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      bodies.push(JSON.parse(body) as { event: string, metadata: unknown })
      res.writeHead(status).end(status === 200 ? 'ok' : 'nope')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/test' })
  const engine = createEngine({}, { store: h.store, sender, logger: createLogger({ level: 'silent' }), metrics: h.metrics })
  engine.start()
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    // Subscribed to campaign events only: a test send goes anyway (a disabled webhook's is a 409:
    // test/api/endpoint-health.test.ts).
    const created = await h.call('POST', '/api/v1/webhooks', { url, events: ['campaign.ended'], timeout_ms: 1000 })
    const id = created.json<{ id: string }>().id

    const res = await h.call('POST', `/api/v1/webhooks/${id}/test`)
    assert.equal(res.statusCode, 200, res.body)
    const delivery = res.json<DeliveryJson>()
    assert.equal(delivery.event, 'call.ended')
    assert.equal(delivery.webhook_id, id)
    assert.equal(delivery.status, 'succeeded')
    assert.deepEqual(delivery.attempts.map((a) => [a.attempt, a.status_code, a.response_excerpt]), [[1, 200, 'ok']])
    assert.equal(bodies[0]?.event, 'call.ended')
    assert.deepEqual(bodies[0]?.metadata, { test: true })

    status = 400
    const rejected = await h.call('POST', `/api/v1/webhooks/${id}/test`, { event: 'campaign.ended' })
    assert.equal(rejected.statusCode, 200, rejected.body)
    const r = rejected.json<DeliveryJson>()
    assert.equal(r.event, 'campaign.ended')
    assert.equal(r.status, 'failed', 'a 4xx is permanent')
    assert.equal(r.attempts[0]?.status_code, 400)

    const bad = await h.call('POST', `/api/v1/webhooks/${id}/test`, { event: '*' })
    assert.equal(bad.statusCode, 422)
    assert.equal((await h.call('POST', '/api/v1/webhooks/wh_nope/test')).statusCode, 404)
    const listed = await h.call('GET', `/api/v1/webhooks/${id}/deliveries`)
    assert.equal(listed.json<{ data: unknown[] }>().data.length, 2)
  } finally {
    await engine.stop(1000)
    await sender.close()
    await new Promise((resolve) => receiver.close(resolve))
    await h.close()
  }
})
