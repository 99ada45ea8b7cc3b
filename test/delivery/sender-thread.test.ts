/**
 * The sender thread (src/delivery/sender-thread.ts) beyond what http-client.test.ts checks for
 * both senders: many attempts crossing at once each get their own outcome, and a closed sender
 * refuses to send. Real HTTP to a receiver on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createThreadedHttpClient } from '../../src/delivery/sender-thread.js'
import { startReceiver } from '../helpers/receiver.js'

test('300 attempts made at once cross together and each comes back with its own outcome', async () => {
  // The status is the request's own number's parity: a mixed-up answer would show.
  const receiver = await startReceiver({ respond: (request) => {
    const n = Number((JSON.parse(request.body.toString()) as { n: number }).n)
    return n % 2 === 0 ? { status: 200, body: `ok ${n}` } : 503
  } })
  const sender = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/0.0.0-test' })
  try {
    const outcomes = await Promise.all(Array.from({ length: 300 }, async (_, n) =>
      await sender.send({ webhookId: `wh_${n % 3}`, url: receiver.url, headers: {}, body: JSON.stringify({ n }), timeoutMs: 30_000 })))
    outcomes.forEach((outcome, n) => {
      if (n % 2 === 0) assert.deepEqual([outcome.kind, 'responseExcerpt' in outcome ? outcome.responseExcerpt : null], ['delivered', `ok ${n}`], `request ${n}`)
      else assert.equal(outcome.kind === 'failed' && outcome.statusCode, 503, `request ${n}`)
    })
    assert.equal(receiver.requests.length, 300)
  } finally {
    await sender.close()
    await receiver.close()
  }
})

test('a closed sender sends nothing and says so; closing twice is fine', async () => {
  const receiver = await startReceiver()
  const sender = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/0.0.0-test' })
  try {
    assert.equal((await sender.send({ webhookId: 'wh_1', url: receiver.url, headers: {}, body: '{}', timeoutMs: 30_000 })).kind, 'delivered')
    await sender.close()
    await sender.close()
    const after = await sender.send({ webhookId: 'wh_1', url: receiver.url, headers: {}, body: '{}', timeoutMs: 30_000 })
    assert.deepEqual(after.kind === 'failed' ? [after.reason, after.error] : after, ['network', 'HTTP client is closed'])
    assert.equal(receiver.requests.length, 1)
  } finally {
    await receiver.close()
  }
})
