import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'undici'
import { startReceiver } from './receiver.js'

async function post (url: string, body: string): Promise<number> {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  await res.body.dump()
  return res.statusCode
}

test('the receiver plays its status list in order and repeats the last one', async () => {
  const receiver = await startReceiver({ respond: [503, 404, 200] })
  try {
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push(await post(receiver.url, `{"n":${i}}`))
    assert.deepEqual(statuses, [503, 404, 200, 200, 200])
    assert.deepEqual(receiver.requests.map((r) => r.body.toString()), ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'])
    assert.deepEqual(receiver.requests.map((r) => r.index), [0, 1, 2, 3, 4])
    assert.ok(receiver.requests.every((r) => r.method === 'POST' && r.path === '/hook'))
  } finally {
    await receiver.close()
  }
})

test('a script function sees each request; waitForRequests waits and times out', async () => {
  const receiver = await startReceiver({ respond: (req) => (req.body.toString() === 'ok' ? 200 : { status: 422, body: 'bad' }) })
  try {
    const waiting = receiver.waitForRequests(2)
    assert.equal(await post(receiver.url, 'ok'), 200)
    assert.equal(await post(receiver.url, 'nope'), 422)
    const got = await waiting
    assert.equal(got.length, 2)
    assert.ok((got[1]?.receivedAt ?? 0) >= (got[0]?.receivedAt ?? Infinity))
    await assert.rejects(receiver.waitForRequests(3, 100), /expected 3 requests, got 2/)
  } finally {
    await receiver.close()
  }
})

test('close() ends hanging connections, so a test never waits on them', async () => {
  const receiver = await startReceiver({ respond: [{ status: 200, hang: 'no-response' }] })
  const pending = post(receiver.url, '{}').then(() => 'answered', () => 'cut')
  await receiver.waitForRequests(1)
  await receiver.close()
  assert.equal(await pending, 'cut')
  await receiver.close() // twice is fine
})
