import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'undici'
import { createEnvelope, serializeEnvelope } from '../../src/events/envelope.js'
import { samplePayload } from '../../src/events/samples.js'
import { signHeaders } from '../../src/signing/signer.js'
import { createListener } from '../../src/simulator/listener.js'

const SECRET = 'whsec_listener_test'

async function post (url: string, body: string, headers: Record<string, string>) {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-kejue-attempt': '1', ...headers } })
  return { status: res.statusCode, body: await res.body.text() }
}

test('listen verifies a signed delivery and rejects a wrong signature, saying why', async () => {
  const lines: string[] = []
  const listener = createListener({ port: 0, secret: SECRET }, { write: (line) => lines.push(line) })
  const { url } = await listener.start()
  try {
    const body = serializeEnvelope(createEnvelope({ event: 'call.ended', workspaceId: 'ws_1', data: samplePayload('call.ended') }))
    const good = await post(url, body, signHeaders('hmac_sha256', SECRET, body, Date.now()))
    assert.equal(good.status, 200)
    const bad = await post(url, body, signHeaders('hmac_sha256', 'whsec_other', body, Date.now()))
    assert.equal(bad.status, 401)
    assert.match(bad.body, /SIGNATURE_MISMATCH/)
    assert.equal(lines.length, 2)
    assert.match(lines[0] ?? '', /call\.ended .*✔ verified/)
    assert.match(lines[1] ?? '', /call\.ended .*✘ NOT verified: The webhook signature does not match \(SIGNATURE_MISMATCH\)/)
    // The secret never shows in what the listener prints.
    assert.ok(lines.every((line) => !line.includes(SECRET)))
    assert.deepEqual(listener.received.map((d) => d.verified), [true, false])
  } finally {
    await listener.close()
  }
})

test('--status 500 answers verified deliveries with 500; --json prints one object per delivery', async () => {
  const lines: string[] = []
  const listener = createListener({ port: 0, secret: SECRET, status: 500, json: true }, { write: (line) => lines.push(line) })
  const { url } = await listener.start()
  try {
    const body = serializeEnvelope(createEnvelope({ event: 'campaign.paused', workspaceId: 'ws_1', data: samplePayload('campaign.paused') }))
    const res = await post(url, body, signHeaders('hmac_sha256', SECRET, body, Date.now()))
    assert.equal(res.status, 500)
    const printed = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>
    assert.equal(printed.verified, true)
    assert.equal(printed.status, 500)
    assert.equal((printed.event as Record<string, unknown>).event, 'campaign.paused')
  } finally {
    await listener.close()
  }
})

test('a stale timestamp is rejected as out of range', async () => {
  const lines: string[] = []
  const listener = createListener({ port: 0, secret: SECRET }, { write: (line) => lines.push(line) })
  const { url } = await listener.start()
  try {
    const body = serializeEnvelope(createEnvelope({ event: 'call.started', workspaceId: 'ws_1', data: samplePayload('call.started') }))
    const res = await post(url, body, signHeaders('hmac_sha256', SECRET, body, Date.now() - 3_600_000))
    assert.equal(res.status, 401)
    assert.match(lines[0] ?? '', /TIMESTAMP_OUT_OF_RANGE/)
  } finally {
    await listener.close()
  }
})
