import { test } from 'node:test'
import assert from 'node:assert/strict'
import { signHeaders } from '../../src/signing/signer.js'
import { loadSignatureVectors } from '../helpers/signature-vectors.js'
import { verifyWebhook } from './spec-verify-webhook.mjs'

// docs/wire-format.md: "The spec's own verifyWebhook example must accept every hmac_sha256 delivery
// exactly as printed there."

test("the spec's verifyWebhook accepts every hmac_sha256 vector", () => {
  const vectors = loadSignatureVectors().filter((v) => v.method === 'hmac_sha256')
  assert.ok(vectors.length >= 5)
  for (const v of vectors) {
    const ok = verifyWebhook(v.body, v.expectedHeaders['X-Kejue-Signature'] ?? '', v.expectedHeaders['X-Kejue-Timestamp'] ?? '', v.secret ?? '')
    assert.equal(ok, true, v.name)
  }
})

test("the spec's verifyWebhook accepts our signer's output for unicode and large bodies received as bytes", () => {
  const bodies = [
    JSON.stringify({ event: 'call.ended', data: { transcript: '客服：您好 😀 👩🏽‍💻 Zoe\u0308 ﷽' } }),
    JSON.stringify({ event: 'call.ended', data: { transcript: 'Agent: Hello, this is Sara from Kejue… 你好\n'.repeat(400) } }),
    '{}',
  ]
  for (const body of bodies) {
    // As a receiver sees it: bytes off the wire, decoded as UTF-8.
    const received = Buffer.from(body, 'utf8').toString('utf8')
    const headers = signHeaders('hmac_sha256', 'your-secret-key', Buffer.from(body, 'utf8'), Date.now())
    assert.equal(verifyWebhook(received, headers['X-Kejue-Signature'] ?? '', headers['X-Kejue-Timestamp'] ?? '', 'your-secret-key'), true)
    assert.equal(verifyWebhook(`${received} `, headers['X-Kejue-Signature'] ?? '', headers['X-Kejue-Timestamp'] ?? '', 'your-secret-key'), false)
  }
})
