import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { verify } from '../../src/receiver/index.js'
import type { WebhookVerificationError } from '../../src/receiver/index.js'
import { signHeaders, signHeadersDuringRotation } from '../../src/signing/signer.js'
import { loadSignatureVectors } from '../helpers/signature-vectors.js'

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const BODY = JSON.stringify({ event: 'call.ended', event_id: 'evt_1', workspace_id: 'ws_1', timestamp: '2025-01-15T10:30:00.000Z', data: { job_id: 'job_1' }, metadata: {} })
const NOW = 1_736_937_000_000

function code (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as WebhookVerificationError).code
  }
  return 'ok'
}

test('the receiver verifies what the standardwebhooks library signs, and the library verifies what we sign', () => {
  const library = new StandardWebhook(SECRET)
  const signature = library.sign('msg_1', new Date(NOW), BODY)
  const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW / 1000), 'webhook-signature': signature }
  assert.equal(verify(BODY, headers, { method: 'standard_webhooks', secret: SECRET, now: NOW }).event_id, 'evt_1')
  // The secret may be given without its prefix, as the libraries allow.
  assert.equal(verify(BODY, headers, { method: 'standard_webhooks', secret: SECRET.slice('whsec_'.length), now: NOW }).event_id, 'evt_1')
  const ours = signHeaders('standard_webhooks', SECRET, BODY, Date.now(), 'dlv_1')
  assert.deepEqual(library.verify(BODY, ours), JSON.parse(BODY))
  assert.equal(ours['webhook-signature'], library.sign('dlv_1', new Date(Number(ours['webhook-timestamp']) * 1000), BODY))
})

test('every published standard_webhooks vector verifies with the library', () => {
  const vectors = loadSignatureVectors().filter((v) => v.method === 'standard_webhooks')
  assert.ok(vectors.length >= 2)
  for (const v of vectors) {
    const library = new StandardWebhook(v.secret ?? '')
    // The library checks its own five-minute window against the real clock: re-sign at now for that check.
    assert.equal(library.sign(v.messageId ?? '', new Date(Number(v.expectedHeaders['webhook-timestamp']) * 1000), v.body), v.expectedHeaders['webhook-signature'], v.name)
  }
})

test('several signatures (a rotation) verify when any matches; a wrong key, a stale timestamp and missing headers do not', () => {
  const good = signHeaders('standard_webhooks', SECRET, BODY, NOW, 'msg_1')
  const other = signHeaders('standard_webhooks', 'whsec_AQIDBAUGBwgJCgsMDQ4PEA==', BODY, NOW, 'msg_1')
  const both = { ...good, 'webhook-signature': `${other['webhook-signature']} ${good['webhook-signature']}` }
  assert.equal(code(() => verify(BODY, both, { method: 'standard_webhooks', secret: SECRET, now: NOW })), 'ok')
  assert.equal(code(() => verify(BODY, other, { method: 'standard_webhooks', secret: SECRET, now: NOW })), 'SIGNATURE_MISMATCH')
  assert.equal(code(() => verify(BODY, good, { method: 'standard_webhooks', secret: [SECRET, 'whsec_AQIDBAUGBwgJCgsMDQ4PEA=='], now: NOW })), 'ok')
  assert.equal(code(() => verify(BODY, good, { method: 'standard_webhooks', secret: SECRET, now: NOW + 301_000 })), 'TIMESTAMP_OUT_OF_RANGE')
  assert.equal(code(() => verify(BODY, { ...good, 'webhook-timestamp': String(NOW) }, { method: 'standard_webhooks', secret: SECRET, now: NOW })), 'TIMESTAMP_OUT_OF_RANGE')
  assert.equal(code(() => verify(BODY, { ...good, 'webhook-signature': 'v2,abc' }, { method: 'standard_webhooks', secret: SECRET, now: NOW })), 'INVALID_SIGNATURE_FORMAT')
  for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const without: Record<string, string> = { ...good }
    delete without[header]
    assert.equal(code(() => verify(BODY, without, { method: 'standard_webhooks', secret: SECRET, now: NOW })), 'MISSING_HEADER', header)
  }
  assert.equal(code(() => verify(`${BODY} `, good, { method: 'standard_webhooks', secret: SECRET, now: NOW })), 'SIGNATURE_MISMATCH')
})

test('during a rotation overlap webhook-signature carries the old and the new signature; the library verifies with the new secret, the SDK with either', () => {
  const OLD = 'whsec_AQIDBAUGBwgJCgsMDQ4PEA=='
  const now = Date.now()
  const headers = signHeadersDuringRotation('standard_webhooks', SECRET, OLD, BODY, now, 'dlv_1')
  const alone = signHeaders('standard_webhooks', SECRET, BODY, now, 'dlv_1')
  const previous = signHeaders('standard_webhooks', OLD, BODY, now, 'dlv_1')
  assert.equal(headers['webhook-signature'], `${previous['webhook-signature'] ?? ''} ${alone['webhook-signature'] ?? ''}`)
  assert.equal(headers['webhook-id'], 'dlv_1')
  assert.equal(headers['X-Kejue-Signature-Next'], undefined)
  assert.deepEqual(new StandardWebhook(SECRET).verify(BODY, headers), JSON.parse(BODY))
  assert.deepEqual(new StandardWebhook(OLD).verify(BODY, headers), JSON.parse(BODY))
  for (const secret of [SECRET, OLD, [OLD, SECRET]]) {
    assert.equal(code(() => verify(BODY, headers, { method: 'standard_webhooks', secret, now })), 'ok')
  }
  assert.equal(code(() => verify(BODY, headers, { method: 'standard_webhooks', secret: 'whsec_MTIzNDU2Nzg5MDEyMzQ1Ng==', now })), 'SIGNATURE_MISMATCH')
  // Without a previous secret: one signature, as signHeaders.
  assert.deepEqual(signHeadersDuringRotation('standard_webhooks', SECRET, null, BODY, now, 'dlv_1'), alone)
})
