import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  verify,
  VERIFICATION_ERROR_CODES,
  VERIFICATION_ERROR_MESSAGES,
  WebhookVerificationError,
} from '../../src/receiver/index.js'
import type { HeadersLike, RawBody, VerifyOptions } from '../../src/receiver/index.js'
import { signHeaders } from '../../src/signing/signer.js'

// Property tests: whatever arrives, verify either returns an event for a genuine delivery or
// throws a WebhookVerificationError with its fixed message. Nothing else, and never a false accept.

const T = 1_736_937_000_000
const HEADER_NAMES = ['x-kejue-signature', 'X-Kejue-Signature', 'x-kejue-timestamp', 'X-KEJUE-TIMESTAMP', 'authorization', 'Authorization']

type Outcome = { accepted: true } | { accepted: false, error: WebhookVerificationError }

/** Runs verify and fails the property on anything but an event or a well-formed error. */
function attempt (rawBody: unknown, headers: unknown, options: unknown): Outcome {
  try {
    const event = verify(rawBody as RawBody, headers as HeadersLike, options as VerifyOptions)
    assert.equal(typeof event, 'object')
    return { accepted: true }
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw new Error(`verify threw something else: ${String(error)}`)
    assert.ok(VERIFICATION_ERROR_CODES.includes(error.code))
    assert.equal(error.message, error.header === null ? VERIFICATION_ERROR_MESSAGES[error.code] : `${VERIFICATION_ERROR_MESSAGES[error.code]}: ${error.header}`)
    return { accepted: false, error }
  }
}

const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxyz=, '), maxLength: 80 })
const headerValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 100 }),
  hexish,
  hexish.map((h) => `sha256=${h}`),
  hexish.map((h) => `sha1=${h}`),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
  fc.double().map(String),
  fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
  fc.string({ maxLength: 40 }).map((s) => `Basic ${s}`),
  fc.array(fc.string({ maxLength: 80 }), { maxLength: 3 }),
  fc.constant(undefined),
  fc.anything(),
)
const headersArb = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.string({ maxLength: 20 })), headerValue, { maxKeys: 6 }),
  fc.dictionary(fc.constantFrom(...HEADER_NAMES), fc.string({ unit: 'binary', maxLength: 100 }), { maxKeys: 4 }).map((h) => {
    const headers = new Headers()
    // Fetch Headers refuse some bytes; those are not headers a receiver could ever get.
    for (const [k, v] of Object.entries(h)) {
      try { headers.append(k, v) } catch { /* skip */ }
    }
    return headers
  }),
  fc.anything(),
)
const bodyArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
  fc.anything(),
)
const optionsArb = fc.oneof(
  fc.record({
    method: fc.constantFrom('hmac_sha256', 'hmac_sha1', 'bearer', 'basic_auth', 'none', undefined, 'md5'),
    secret: fc.oneof(fc.string({ maxLength: 20 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.anything()),
    toleranceMs: fc.oneof(fc.constant(undefined), fc.double(), fc.integer()),
    now: fc.oneof(fc.constant(T), fc.double(), fc.date({ noInvalidDate: false }), fc.anything()),
  }, { requiredKeys: [] }),
  fc.anything(),
)

test('malformed headers, bodies and options only ever produce a WebhookVerificationError', () => {
  fc.assert(fc.property(bodyArb, headersArb, optionsArb, (body, headers, options) => {
    const outcome = attempt(body, headers, options)
    // Random input can only get through when nothing is checked.
    if (outcome.accepted) assert.equal((options as { method?: unknown }).method, 'none')
  }), { numRuns: 2_500 })
})

// A genuine delivery to break.
// Without control characters or surrounding whitespace: a bearer secret travels in a header, and
// HTTP strips surrounding whitespace and refuses control characters there.
const secretArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 })
  .filter((s) => s.trim() === s && !/\p{Cc}/u.test(s))
// A bearer secret goes into the header as is, and header values are bytes (Fetch refuses
// anything above U+00FF), so it is printable ASCII; the others may be any unicode.
const bearerSecretArb = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 24 })
const deliveryArb = fc.record({
  method: fc.constantFrom('hmac_sha256', 'hmac_sha1', 'bearer', 'basic_auth') as fc.Arbitrary<'hmac_sha256' | 'hmac_sha1' | 'bearer' | 'basic_auth'>,
  secret: secretArb,
  bearerSecret: bearerSecretArb,
  data: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  text: fc.string({ unit: 'grapheme', maxLength: 60 }),
}).map(({ bearerSecret, ...d }) => (d.method === 'bearer' ? { ...d, secret: bearerSecret } : d))

interface Delivery {
  method: 'hmac_sha256' | 'hmac_sha1' | 'bearer' | 'basic_auth'
  secret: string
  body: Buffer
  headers: Record<string, string | string[]>
}

type DeliveryInput = typeof deliveryArb extends fc.Arbitrary<infer R> ? R : never

function makeDelivery (d: DeliveryInput): Delivery {
  const body = Buffer.from(JSON.stringify({
    event: 'call.ended',
    event_id: 'evt_fuzz',
    workspace_id: 'ws_fuzz',
    timestamp: '2025-01-15T10:30:00.000Z',
    data: { ...d.data, text: d.text },
    metadata: {},
  }), 'utf8')
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(signHeaders(d.method, d.secret, body, T))) headers[k.toLowerCase()] = v
  return { method: d.method, secret: d.secret, body, headers }
}

function optionsFor (d: Delivery, secret = d.secret): VerifyOptions {
  return { method: d.method, secret, now: T }
}

test('genuine deliveries with arbitrary unicode payloads and secrets verify', () => {
  fc.assert(fc.property(deliveryArb, (d) => {
    const delivery = makeDelivery(d)
    assert.deepEqual(attempt(delivery.body, delivery.headers, optionsFor(delivery)), { accepted: true })
    assert.deepEqual(attempt(delivery.body.toString('utf8'), new Headers(delivery.headers as Record<string, string>), optionsFor(delivery)), { accepted: true })
  }), { numRuns: 1_000 })
})

const HEX = '0123456789abcdef'
type Mutation = (d: Delivery) => { body: unknown, headers: unknown, options: VerifyOptions } | null

/** A different character at position i of s. */
function replaceAt (s: string, i: number, pool: string, pick: number): string {
  const current = s[i]
  const choices = [...pool].filter((c) => c !== current)
  return s.slice(0, i) + choices[pick % choices.length] + s.slice(i + 1)
}

const hmacOnly = (d: Delivery): boolean => d.method === 'hmac_sha256' || d.method === 'hmac_sha1'
const credentialHeader = (d: Delivery): string => (hmacOnly(d) ? 'x-kejue-signature' : 'authorization')

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // Flip one hex digit of the signature (or one character of the credentials).
  fc.tuple(fc.nat(), fc.nat()).map(([i, pick]): Mutation => (d) => {
    const name = credentialHeader(d)
    const value = String(d.headers[name])
    const start = hmacOnly(d) ? value.indexOf('=') + 1 : value.indexOf(' ') + 1
    const at = start + (i % (value.length - start))
    const pool = hmacOnly(d) ? HEX : `${HEX}ABCDEFXYZ+/=-_:`
    return { body: d.body, headers: { ...d.headers, [name]: replaceAt(value, at, pool, pick) }, options: optionsFor(d) }
  }),
  // Shift the timestamp by a non-zero amount, inside or outside the tolerance.
  fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((n) => n !== 0).map((delta): Mutation => (d) => hmacOnly(d)
    ? { body: d.body, headers: { ...d.headers, 'x-kejue-timestamp': String(T + delta) }, options: optionsFor(d) }
    : null),
  // Truncate the signature or credentials.
  fc.nat().map((n): Mutation => (d) => {
    const name = credentialHeader(d)
    const value = String(d.headers[name])
    return { body: d.body, headers: { ...d.headers, [name]: value.slice(0, n % value.length) }, options: optionsFor(d) }
  }),
  // Truncate, extend or flip a byte of the body (the body is only signed by the HMAC methods).
  fc.nat().map((n): Mutation => (d) => hmacOnly(d) ? { body: d.body.subarray(0, n % d.body.length), headers: d.headers, options: optionsFor(d) } : null),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra): Mutation => (d) => hmacOnly(d) ? { body: Buffer.concat([d.body, extra]), headers: d.headers, options: optionsFor(d) } : null),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, mask]): Mutation => (d) => {
    if (!hmacOnly(d)) return null
    const body = Buffer.from(d.body)
    const at = i % body.length
    body[at] = (body[at] ?? 0) ^ mask
    return { body, headers: d.headers, options: optionsFor(d) }
  }),
  // Replace the body with random bytes.
  fc.uint8Array({ maxLength: 200 }).map((bytes): Mutation => (d) => hmacOnly(d) && !d.body.equals(bytes) ? { body: bytes, headers: d.headers, options: optionsFor(d) } : null),
  // Duplicate a header, as an array or comma-joined.
  fc.tuple(fc.boolean(), fc.boolean()).map(([asArray, timestamp]): Mutation => (d) => {
    const name = timestamp && hmacOnly(d) ? 'x-kejue-timestamp' : credentialHeader(d)
    const value = String(d.headers[name])
    return { body: d.body, headers: { ...d.headers, [name]: asArray ? [value, value] : `${value}, ${value}` }, options: optionsFor(d) }
  }),
  // Drop a header.
  fc.boolean().map((timestamp): Mutation => (d) => {
    const headers = { ...d.headers }
    delete headers[timestamp && hmacOnly(d) ? 'x-kejue-timestamp' : credentialHeader(d)]
    return { body: d.body, headers, options: optionsFor(d) }
  }),
  // The other HMAC algorithm's prefix on the same hex.
  fc.constant<Mutation>((d) => {
    if (!hmacOnly(d)) return null
    const value = String(d.headers['x-kejue-signature'])
    const swapped = value.startsWith('sha256=') ? `sha1=${value.slice(7)}` : `sha256=${value.slice(5)}`
    return { body: d.body, headers: { ...d.headers, 'x-kejue-signature': swapped }, options: optionsFor(d) }
  }),
  // Random replacement of the credential header.
  fc.string({ unit: 'binary', maxLength: 120 }).map((s): Mutation => (d) => ({ body: d.body, headers: { ...d.headers, [credentialHeader(d)]: s }, options: optionsFor(d) })),
  // Verify with another secret.
  secretArb.map((other): Mutation => (d) => other === d.secret ? null : { body: d.body, headers: d.headers, options: optionsFor(d, other) }),
)

test('mutated deliveries are never accepted and only ever fail with a WebhookVerificationError', () => {
  let checked = 0
  fc.assert(fc.property(deliveryArb, mutationArb, (d, mutate) => {
    const delivery = makeDelivery(d)
    const mutated = mutate(delivery)
    fc.pre(mutated !== null)
    const outcome = attempt(mutated.body, mutated.headers, mutated.options)
    assert.equal(outcome.accepted, false, 'a mutated delivery verified')
    checked++
  }), { numRuns: 3_000 })
  assert.ok(checked > 1_500, `only ${checked} mutations were checked`)
})
