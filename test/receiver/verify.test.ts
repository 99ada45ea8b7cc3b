import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  safeVerify,
  verify,
  verifySignature,
  VERIFICATION_ERROR_CODES,
  VERIFICATION_ERROR_MESSAGES,
  WebhookVerificationError,
  RECEIVER_SIGNING_METHODS,
} from '../../src/receiver/index.js'
import type { HeadersLike, RawBody, VerifyOptions, WebhookVerificationErrorCode } from '../../src/receiver/index.js'
import { SIGNING_METHODS } from '../../src/signing/methods.js'
import { signHeaders } from '../../src/signing/signer.js'
import { loadSignatureVectors } from '../helpers/signature-vectors.js'
import { envelopeBody, signedRequest, TEST_SECRET } from '../helpers/webhook-request.js'

/** Asserts `fn` throws a WebhookVerificationError with `code`, its fixed message, and no leak. */
function assertRejects (fn: () => unknown, code: WebhookVerificationErrorCode, secrets: string[] = [TEST_SECRET]): void {
  let thrown: unknown
  try {
    fn()
  } catch (error) {
    thrown = error
  }
  assert.ok(thrown instanceof WebhookVerificationError, `expected a WebhookVerificationError, got ${String(thrown)}`)
  assert.equal(thrown.code, code)
  // MISSING_HEADER names the header after the fixed message; every other code is the message alone.
  assert.equal(thrown.message, thrown.header === null ? VERIFICATION_ERROR_MESSAGES[code] : `${VERIFICATION_ERROR_MESSAGES[code]}: ${thrown.header}`)
  assert.equal(thrown.name, 'WebhookVerificationError')
  const serialized = `${thrown.message} ${thrown.stack ?? ''} ${JSON.stringify(thrown)}`
  for (const secret of secrets) assert.ok(!serialized.includes(secret), 'error mentions the secret')
}

const T = 1_736_937_000_000
const at = { now: T }

test('every published vector verifies and returns the parsed envelope', () => {
  for (const v of loadSignatureVectors()) {
    const options = (v.method === 'none'
      ? { method: 'none', now: v.timestamp }
      : { method: v.method, secret: v.secret ?? '', now: v.timestamp }) as VerifyOptions
    const event = verify(v.body, v.expectedHeaders, options)
    assert.deepEqual(event, JSON.parse(v.body), v.name)
  }
})

test('the body may be a string, a Buffer, a Uint8Array view at an offset, or an ArrayBuffer', () => {
  const { body, headers } = signedRequest({ body: envelopeBody({ text: '你好 😀 José\u0301' }) })
  const bytes = Buffer.from(body, 'utf8')
  const padded = new Uint8Array(bytes.length + 10)
  padded.set(bytes, 5)
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
  const bodies: RawBody[] = [body, bytes, padded.subarray(5, 5 + bytes.length), arrayBuffer]
  for (const raw of bodies) assert.equal(verify(raw, headers, { secret: TEST_SECRET, ...at }).event_id, 'evt_test')
})

test('headers may be Node lowercase headers, Fetch Headers, a Fetch Request, or any-case plain keys', async () => {
  const { body, headers } = signedRequest()
  const options = { secret: TEST_SECRET, ...at }
  assert.ok(verify(body, headers, options))
  assert.ok(verify(body, new Headers(headers), options))
  const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]))
  assert.ok(verify(body, upper, options))
  const mixed = { 'X-Kejue-Signature': headers['x-kejue-signature'], 'x-KEJUE-timestamp': [headers['x-kejue-timestamp'] ?? ''] }
  assert.ok(verify(body, mixed, options))
  const request = new Request('http://127.0.0.1/hook', { method: 'POST', headers, body })
  assert.ok(verify(await request.arrayBuffer(), request.headers, options))
})

test('the timestamp may be up to toleranceMs away either way, and no more', () => {
  const { body, headers } = signedRequest({ timestampMs: T })
  const secret = TEST_SECRET
  assert.ok(verify(body, headers, { secret, now: T + 300_000 }))
  assert.ok(verify(body, headers, { secret, now: T - 300_000 }))
  assert.ok(verify(body, headers, { secret, now: new Date(T + 299_999) }))
  assertRejects(() => verify(body, headers, { secret, now: T + 300_001 }), 'TIMESTAMP_OUT_OF_RANGE')
  assertRejects(() => verify(body, headers, { secret, now: T - 300_001 }), 'TIMESTAMP_OUT_OF_RANGE')
  assert.ok(verify(body, headers, { secret, now: T, toleranceMs: 0 }))
  assertRejects(() => verify(body, headers, { secret, now: T + 1, toleranceMs: 0 }), 'TIMESTAMP_OUT_OF_RANGE')
  assert.ok(verify(body, headers, { secret, now: T + 86_400_000, toleranceMs: Infinity }))
  // A sender that mistook seconds for milliseconds is far out of range, not silently accepted.
  const seconds = { ...headers, 'x-kejue-timestamp': String(Math.floor(T / 1000)) }
  assertRejects(() => verify(body, seconds, { secret, now: T }), 'TIMESTAMP_OUT_OF_RANGE')
})

test('without `now`, the current clock is used', () => {
  const fresh = signedRequest({ timestampMs: Date.now() })
  assert.ok(verify(fresh.body, fresh.headers, { secret: TEST_SECRET }))
  const stale = signedRequest({ timestampMs: Date.now() - 10 * 60_000 })
  assertRejects(() => verify(stale.body, stale.headers, { secret: TEST_SECRET }), 'TIMESTAMP_OUT_OF_RANGE')
})

test('hmac_sha1 verifies with its own prefix, and each HMAC method refuses the other', () => {
  const sha1 = signedRequest({ method: 'hmac_sha1' })
  assert.ok(verify(sha1.body, sha1.headers, { method: 'hmac_sha1', secret: TEST_SECRET, ...at }))
  assertRejects(() => verify(sha1.body, sha1.headers, { secret: TEST_SECRET, ...at }), 'INVALID_SIGNATURE_FORMAT')
  const sha256 = signedRequest()
  assertRejects(() => verify(sha256.body, sha256.headers, { method: 'hmac_sha1', secret: TEST_SECRET, ...at }), 'INVALID_SIGNATURE_FORMAT')
})

test('a wrong secret, body or timestamp is a SIGNATURE_MISMATCH', () => {
  const { body, headers } = signedRequest()
  assertRejects(() => verify(body, headers, { secret: 'whsec_other', ...at }), 'SIGNATURE_MISMATCH')
  assertRejects(() => verify(`${body} `, headers, { secret: TEST_SECRET, ...at }), 'SIGNATURE_MISMATCH')
  const shifted = { ...headers, 'x-kejue-timestamp': String(T + 1) }
  assertRejects(() => verify(body, shifted, { secret: TEST_SECRET, ...at }), 'SIGNATURE_MISMATCH')
  // NFC and NFD look alike but are different bytes, so a re-encoded body does not verify.
  const nfd = signedRequest({ body: envelopeBody({ name: 'Jose\u0301' }) })
  assertRejects(() => verify(nfd.body.normalize('NFC'), nfd.headers, { secret: TEST_SECRET, ...at }), 'SIGNATURE_MISMATCH')
})

test('several secrets accept a delivery signed with any of them (rotation)', () => {
  const old = signedRequest({ secret: 'whsec_old' })
  const current = signedRequest({ secret: 'whsec_new' })
  const options = { secret: ['whsec_new', 'whsec_old'], ...at }
  assert.ok(verify(old.body, old.headers, options))
  assert.ok(verify(current.body, current.headers, options))
  assertRejects(() => verify(old.body, old.headers, { secret: ['whsec_new', 'whsec_x'], ...at }), 'SIGNATURE_MISMATCH')
  assertRejects(() => verify(old.body, old.headers, { secret: [], ...at }), 'MISSING_SECRET')
  assertRejects(() => verify(old.body, old.headers, { secret: ['whsec_old', ''], ...at }), 'MISSING_SECRET')
})

test('bearer compares the whole token', () => {
  const secret = 'kj_bearer_token_123'
  const { body, headers } = signedRequest({ method: 'bearer', secret })
  assert.ok(verify(body, headers, { method: 'bearer', secret }))
  assert.ok(verify(body, { authorization: `bearer ${secret}` }, { method: 'bearer', secret }), 'the scheme is case-insensitive')
  assertRejects(() => verify(body, { authorization: `Bearer ${secret}x` }, { method: 'bearer', secret }), 'SIGNATURE_MISMATCH', [secret])
  assertRejects(() => verify(body, { authorization: 'Bearer kj_bearer' }, { method: 'bearer', secret }), 'SIGNATURE_MISMATCH', [secret])
  assertRejects(() => verify(body, { authorization: `Bearer ${secret.toUpperCase()}` }, { method: 'bearer', secret }), 'SIGNATURE_MISMATCH', [secret])
  assertRejects(() => verify(body, { authorization: 'Bearer ' }, { method: 'bearer', secret }), 'INVALID_SIGNATURE_FORMAT', [secret])
  assertRejects(() => verify(body, { authorization: secret }, { method: 'bearer', secret }), 'INVALID_SIGNATURE_FORMAT', [secret])
  assertRejects(() => verify(body, { authorization: `Basic ${secret}` }, { method: 'bearer', secret }), 'INVALID_SIGNATURE_FORMAT', [secret])
  assertRejects(() => verify(body, {}, { method: 'bearer', secret }), 'MISSING_HEADER', [secret])
  assertRejects(() => verify(body, { authorization: [`Bearer ${secret}`, `Bearer ${secret}`] }, { method: 'bearer', secret }), 'INVALID_SIGNATURE_FORMAT', [secret])
})

test('basic_auth compares base64 of user:password', () => {
  const secret = 'ålice:pässwörd'
  const { body, headers } = signedRequest({ method: 'basic_auth', secret })
  assert.ok(verify(body, headers, { method: 'basic_auth', secret }))
  assert.ok(verify(body, new Headers(headers), { method: 'basic_auth', secret: ['x:y', secret] }))
  const wrong = `Basic ${Buffer.from('ålice:wrong').toString('base64')}`
  assertRejects(() => verify(body, { authorization: wrong }, { method: 'basic_auth', secret }), 'SIGNATURE_MISMATCH', [secret])
  assertRejects(() => verify(body, { authorization: `Bearer ${secret}` }, { method: 'basic_auth', secret }), 'INVALID_SIGNATURE_FORMAT', [secret])
  assertRejects(() => verify(body, { authorization: `Basic ${secret}` }, { method: 'basic_auth', secret }), 'SIGNATURE_MISMATCH', [secret])
})

test('none needs no headers and still checks the body is an envelope', () => {
  const body = envelopeBody()
  assert.equal(verify(body, {}, { method: 'none' }).event, 'call.ended')
  assertRejects(() => verify('not json', {}, { method: 'none' }), 'INVALID_BODY')
})

test('hostile headers are refused with the right code', () => {
  const { body, headers } = signedRequest()
  const sig = headers['x-kejue-signature'] ?? ''
  const ts = headers['x-kejue-timestamp'] ?? ''
  const options = { secret: TEST_SECRET, ...at }
  const cases: Array<[string, HeadersLike, WebhookVerificationErrorCode]> = [
    ['no headers', {}, 'MISSING_HEADER'],
    ['no signature', { 'x-kejue-timestamp': ts }, 'MISSING_HEADER'],
    ['no timestamp', { 'x-kejue-signature': sig }, 'MISSING_HEADER'],
    ['empty signature', { 'x-kejue-signature': '', 'x-kejue-timestamp': ts }, 'MISSING_HEADER'],
    ['empty array', { 'x-kejue-signature': [], 'x-kejue-timestamp': ts }, 'MISSING_HEADER'],
    ['duplicated signature (array)', { 'x-kejue-signature': [sig, sig], 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['duplicated signature (comma-joined)', { 'x-kejue-signature': `${sig}, ${sig}`, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['duplicated signature (keys differing in case)', { 'x-kejue-signature': sig, 'X-Kejue-Signature': sig, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['duplicated timestamp (array)', { 'x-kejue-signature': sig, 'x-kejue-timestamp': [ts, ts] }, 'INVALID_TIMESTAMP'],
    ['duplicated timestamp (comma-joined)', { 'x-kejue-signature': sig, 'x-kejue-timestamp': `${ts}, ${ts}` }, 'INVALID_TIMESTAMP'],
    ['sha256= alone', { 'x-kejue-signature': 'sha256=', 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['no prefix', { 'x-kejue-signature': sig.slice(7), 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['sha1= prefix for sha256', { 'x-kejue-signature': `sha1=${sig.slice(7)}`, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['uppercase prefix', { 'x-kejue-signature': `SHA256=${sig.slice(7)}`, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['uppercase hex', { 'x-kejue-signature': `sha256=${sig.slice(7).toUpperCase()}`, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['non-hex', { 'x-kejue-signature': `sha256=${'zz'.repeat(32)}`, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['63 hex chars', { 'x-kejue-signature': sig.slice(0, -1), 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['65 hex chars', { 'x-kejue-signature': `${sig}0`, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['trailing space', { 'x-kejue-signature': `${sig} `, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['huge signature', { 'x-kejue-signature': `sha256=${'a'.repeat(10_000_000)}`, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['signature not a string', { 'x-kejue-signature': 42 as unknown as string, 'x-kejue-timestamp': ts }, 'INVALID_SIGNATURE_FORMAT'],
    ['timestamp with a fraction', { 'x-kejue-signature': sig, 'x-kejue-timestamp': `${ts}.5` }, 'INVALID_TIMESTAMP'],
    ['timestamp with an exponent', { 'x-kejue-signature': sig, 'x-kejue-timestamp': '1.736937e12' }, 'INVALID_TIMESTAMP'],
    ['negative timestamp', { 'x-kejue-signature': sig, 'x-kejue-timestamp': `-${ts}` }, 'INVALID_TIMESTAMP'],
    ['leading zero', { 'x-kejue-signature': sig, 'x-kejue-timestamp': `0${ts}` }, 'INVALID_TIMESTAMP'],
    ['leading plus', { 'x-kejue-signature': sig, 'x-kejue-timestamp': `+${ts}` }, 'INVALID_TIMESTAMP'],
    ['hex timestamp', { 'x-kejue-signature': sig, 'x-kejue-timestamp': '0x19468f0c1a0' }, 'INVALID_TIMESTAMP'],
    ['words', { 'x-kejue-signature': sig, 'x-kejue-timestamp': 'yesterday' }, 'INVALID_TIMESTAMP'],
    ['ISO date', { 'x-kejue-signature': sig, 'x-kejue-timestamp': '2025-01-15T10:30:00Z' }, 'INVALID_TIMESTAMP'],
    ['beyond safe integers', { 'x-kejue-signature': sig, 'x-kejue-timestamp': '9999999999999999' }, 'INVALID_TIMESTAMP'],
    ['huge timestamp', { 'x-kejue-signature': sig, 'x-kejue-timestamp': '1'.repeat(1_000_000) }, 'INVALID_TIMESTAMP'],
    ['Infinity', { 'x-kejue-signature': sig, 'x-kejue-timestamp': 'Infinity' }, 'INVALID_TIMESTAMP'],
  ]
  for (const [name, hostile, code] of cases) {
    const started = performance.now()
    assertRejects(() => verify(body, hostile, options), code)
    assert.ok(performance.now() - started < 250, `${name} took too long`)
    // The fixed message never carries what the sender put in a header.
    const result = safeVerify(body, hostile, options)
    assert.equal(result.ok, false, name)
  }
  // A single-element array is what some frameworks give for a header sent once.
  assert.ok(verify(body, { 'x-kejue-signature': [sig], 'x-kejue-timestamp': [ts] }, options))
})

test('hostile bodies are refused: non-UTF-8, not JSON, not an envelope', () => {
  const sign = (bytes: Buffer | string): { body: Buffer | string, headers: Record<string, string> } => {
    const signed = signHeaders('hmac_sha256', TEST_SECRET, bytes, T)
    return { body: bytes, headers: { 'x-kejue-signature': signed['X-Kejue-Signature'] ?? '', 'x-kejue-timestamp': signed['X-Kejue-Timestamp'] ?? '' } }
  }
  const envelope = JSON.parse(envelopeBody()) as Record<string, unknown>
  const bodies: Array<Buffer | string> = [
    Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    Buffer.concat([Buffer.from(envelopeBody().slice(0, 40)), Buffer.from([0xc3, 0x28]), Buffer.from(envelopeBody().slice(40))]),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(envelopeBody())]),
    '',
    'not json',
    '{"event":',
    'null',
    '42',
    '"call.ended"',
    '[]',
    `[${envelopeBody()}]`,
    '{}',
    JSON.stringify({ ...envelope, data: null }),
    JSON.stringify({ ...envelope, data: [] }),
    JSON.stringify({ ...envelope, event: 1 }),
    JSON.stringify({ ...envelope, event: '' }),
    JSON.stringify({ ...envelope, event_id: undefined }),
    JSON.stringify({ ...envelope, metadata: 'x' }),
    '['.repeat(100_000) + ']'.repeat(100_000),
  ]
  for (const raw of bodies) {
    const { body, headers } = sign(raw)
    assertRejects(() => verify(body, headers, { secret: TEST_SECRET, ...at }), 'INVALID_BODY')
    // verifySignature checks only the signature, so the same bytes pass it.
    verifySignature(body, headers, { secret: TEST_SECRET, ...at })
  }
})

test('the usual setup mistakes each get their own code, with status 500 so Kejue retries', () => {
  const { body, headers } = signedRequest()
  const cases: Array<[string, unknown, unknown, WebhookVerificationErrorCode]> = [
    ['secret from an unset variable', body, { secret: process.env.KEJUE_SURELY_UNSET_VARIABLE }, 'MISSING_SECRET'],
    ['empty secret', body, { secret: '' }, 'MISSING_SECRET'],
    ['no secret key', body, {}, 'MISSING_SECRET'],
    ['no options at all', body, undefined, 'MISSING_SECRET'],
    ['null secret', body, { secret: null }, 'MISSING_SECRET'],
    ['body parsed by express.json()', JSON.parse(body), { secret: TEST_SECRET }, 'BODY_ALREADY_PARSED'],
    ['body parsed into an array', [1, 2], { secret: TEST_SECRET }, 'BODY_ALREADY_PARSED'],
    ['no body parser at all', undefined, { secret: TEST_SECRET }, 'MISSING_BODY'],
    ['null body', null, { secret: TEST_SECRET }, 'MISSING_BODY'],
  ]
  for (const [name, rawBody, options, code] of cases) {
    let thrown: unknown
    try {
      verify(rawBody as RawBody, headers, options as VerifyOptions)
    } catch (error) {
      thrown = error
    }
    assert.ok(thrown instanceof WebhookVerificationError, name)
    assert.equal(thrown.code, code, name)
    assert.equal(thrown.status, 500, name)
    assert.equal(thrown.message, VERIFICATION_ERROR_MESSAGES[code], name)
  }
})

test('a missing header is MISSING_HEADER naming which one, with status 400', () => {
  const { body, headers } = signedRequest()
  const cases: Array<[Record<string, string>, VerifyOptions, string]> = [
    [{ 'x-kejue-timestamp': headers['x-kejue-timestamp'] ?? '' }, { secret: TEST_SECRET, ...at }, 'X-Kejue-Signature'],
    [{ 'x-kejue-signature': headers['x-kejue-signature'] ?? '' }, { secret: TEST_SECRET, ...at }, 'X-Kejue-Timestamp'],
    [{}, { method: 'bearer', secret: TEST_SECRET }, 'Authorization'],
  ]
  for (const [hdrs, options, header] of cases) {
    let thrown: unknown
    try {
      verify(body, hdrs, options)
    } catch (error) {
      thrown = error
    }
    assert.ok(thrown instanceof WebhookVerificationError)
    assert.equal(thrown.code, 'MISSING_HEADER')
    assert.equal(thrown.header, header)
    assert.equal(thrown.status, 400)
    assert.ok(thrown.message.endsWith(`: ${header}`), thrown.message)
  }
  const forged = safeVerify(body, { ...headers, 'x-kejue-signature': `sha256=${'0'.repeat(64)}` }, { secret: TEST_SECRET, ...at })
  assert.ok(!forged.ok && forged.error.status === 400 && forged.error.header === null)
})

test('other bad arguments are INVALID_OPTIONS, never a TypeError', () => {
  const { body, headers } = signedRequest()
  const bad: Array<[unknown, unknown, unknown]> = [
    [body, headers, { secret: 42 }],
    [body, headers, { secret: TEST_SECRET, method: 'md5' }],
    [body, headers, { secret: TEST_SECRET, toleranceMs: -1 }],
    [body, headers, { secret: TEST_SECRET, toleranceMs: Number.NaN }],
    [body, headers, { secret: TEST_SECRET, toleranceMs: '300000' }],
    [body, headers, { secret: TEST_SECRET, now: 'now' }],
    [body, headers, { secret: TEST_SECRET, now: new Date('nope') }],
    [body, headers, null],
    [body, null, { secret: TEST_SECRET }],
    [body, 'x-kejue-signature: sha256=00', { secret: TEST_SECRET }],
    [42, headers, { secret: TEST_SECRET }],
    [new DataView(new ArrayBuffer(2)), headers, { secret: TEST_SECRET }],
  ]
  for (const [rawBody, hdrs, options] of bad) {
    assertRejects(() => verify(rawBody as RawBody, hdrs as HeadersLike, options as VerifyOptions), 'INVALID_OPTIONS')
  }
})

test('safeVerify returns the event or the error instead of throwing', () => {
  const { body, headers } = signedRequest()
  const ok = safeVerify(body, headers, { secret: TEST_SECRET, ...at })
  assert.equal(ok.ok, true)
  if (ok.ok) assert.equal(ok.event.event_id, 'evt_test')
  const bad = safeVerify(body, headers, { secret: 'nope', ...at })
  assert.equal(bad.ok, false)
  if (!bad.ok) assert.equal(bad.error.code, 'SIGNATURE_MISMATCH')
})

test('every error code has a fixed message, and the method list matches the signer', () => {
  assert.deepEqual(new Set(Object.keys(VERIFICATION_ERROR_MESSAGES)), new Set(VERIFICATION_ERROR_CODES))
  for (const code of VERIFICATION_ERROR_CODES) assert.equal(new WebhookVerificationError(code).message, VERIFICATION_ERROR_MESSAGES[code])
  // The codes users already match on keep their names (docs/receiving.md lists every one).
  for (const code of ['INVALID_OPTIONS', 'MISSING_HEADER', 'INVALID_SIGNATURE_FORMAT', 'SIGNATURE_MISMATCH', 'INVALID_TIMESTAMP', 'TIMESTAMP_OUT_OF_RANGE', 'INVALID_BODY']) {
    assert.ok((VERIFICATION_ERROR_CODES as string[]).includes(code), code)
  }
  assert.deepEqual([...RECEIVER_SIGNING_METHODS], [...SIGNING_METHODS])
})
