import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { signHeaders } from './signer.js'
import { SIGNING_METHODS } from './methods.js'
import { loadSignatureVectors } from '../../test/helpers/signature-vectors.js'
import type { SignatureVector as Vector } from '../../test/helpers/signature-vectors.js'

const vectors = loadSignatureVectors()

/** docs/wire-format.md written out by hand, without the signer, so a bug in one does not hide in the other. */
function headersFromContract (v: Vector): Record<string, string> {
  const bytes = Buffer.concat([Buffer.from(`${v.timestamp}.`, 'ascii'), Buffer.from(v.body, 'utf8')])
  switch (v.method) {
    case 'hmac_sha256':
      return { 'X-Kejue-Timestamp': String(v.timestamp), 'X-Kejue-Signature': `sha256=${createHmac('sha256', Buffer.from(v.secret ?? '', 'utf8')).update(bytes).digest('hex')}` }
    case 'hmac_sha1':
      return { 'X-Kejue-Timestamp': String(v.timestamp), 'X-Kejue-Signature': `sha1=${createHmac('sha1', Buffer.from(v.secret ?? '', 'utf8')).update(bytes).digest('hex')}` }
    case 'bearer':
      return { Authorization: `Bearer ${v.secret ?? ''}` }
    case 'basic_auth':
      return { Authorization: `Basic ${Buffer.from(v.secret ?? '', 'utf8').toString('base64')}` }
    case 'none':
      return {}
    case 'standard_webhooks': {
      const seconds = String(Math.floor(v.timestamp / 1000))
      const key = Buffer.from((v.secret ?? '').replace(/^whsec_/, ''), 'base64')
      const id = v.messageId ?? ''
      const signature = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${seconds}.`, 'ascii'), Buffer.from(v.body, 'utf8')])).digest('base64')
      return { 'webhook-id': id, 'webhook-timestamp': seconds, 'webhook-signature': `v1,${signature}` }
    }
  }
}

test('signHeaders produces exactly the expected headers of every published vector', () => {
  for (const v of vectors) {
    assert.deepEqual(signHeaders(v.method, v.secret, v.body, v.timestamp, v.messageId), v.expectedHeaders, v.name)
    // The engine signs stored bytes; a Buffer body must sign the same.
    assert.deepEqual(signHeaders(v.method, v.secret, Buffer.from(v.body, 'utf8'), v.timestamp, v.messageId), v.expectedHeaders, v.name)
  }
})

test('every vector matches the contract computed independently with node:crypto', () => {
  for (const v of vectors) assert.deepEqual(v.expectedHeaders, headersFromContract(v), v.name)
})

test('known constants pin the signing string "<timestamp>.<body>" and the header format', () => {
  // From `printf '1.{}' | openssl dgst -sha256 -hmac key` (and -sha1), not from our code.
  assert.deepEqual(signHeaders('hmac_sha256', 'key', '{}', 1), {
    'X-Kejue-Timestamp': '1',
    'X-Kejue-Signature': 'sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224',
  })
  assert.deepEqual(signHeaders('hmac_sha1', 'key', '{}', 1.9), {
    'X-Kejue-Timestamp': '1',
    'X-Kejue-Signature': 'sha1=4fd5fd7133873ec08f8ca5104dc802fafa97a4f5',
  })
  assert.deepEqual(signHeaders('basic_auth', 'user:pass', '{}', 1), { Authorization: 'Basic dXNlcjpwYXNz' })
})

test('the vectors cover every method, unicode bodies, an empty-ish envelope and a large transcript', () => {
  assert.deepEqual(new Set(vectors.map((v) => v.method)), new Set(SIGNING_METHODS))
  const bodies = vectors.map((v) => v.body)
  assert.ok(bodies.some((b) => /\p{Extended_Pictographic}/u.test(b)), 'emoji')
  assert.ok(bodies.some((b) => /\p{Script=Han}/u.test(b)), 'CJK')
  assert.ok(bodies.some((b) => /\p{M}/u.test(b) && b !== b.normalize('NFC')), 'combining marks, not normalized')
  assert.ok(bodies.some((b) => b.includes('"data":{}') && b.includes('"metadata":{}')), 'empty data and metadata')
  assert.ok(bodies.some((b) => Buffer.byteLength(b) > 4_096), 'large body')
  // Vector names are unique, so a failing one can be named.
  assert.equal(new Set(vectors.map((v) => v.name)).size, vectors.length)
})

test('signHeaders refuses a missing secret for methods that need one', () => {
  for (const method of ['hmac_sha256', 'hmac_sha1', 'bearer', 'basic_auth', 'standard_webhooks'] as const) {
    assert.throws(() => signHeaders(method, null, '{}', 1), TypeError)
    assert.throws(() => signHeaders(method, '', '{}', 1), TypeError)
  }
  assert.deepEqual(signHeaders('none', null, '{}', 1), {})
})

test('standard_webhooks refuses a secret that is not whsec_<base64> and a missing message id', () => {
  assert.throws(() => signHeaders('standard_webhooks', 'plain-secret', '{}', 1, 'msg_1'), TypeError)
  assert.throws(() => signHeaders('standard_webhooks', 'whsec_AQIDBAUGBwgJCgsMDQ4PEA==', '{}', 1), TypeError)
  // Seconds, not milliseconds.
  assert.equal(signHeaders('standard_webhooks', 'whsec_AQIDBAUGBwgJCgsMDQ4PEA==', '{}', 1_999, 'msg_1')['webhook-timestamp'], '1')
})
