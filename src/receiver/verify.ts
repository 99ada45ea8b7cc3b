import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { Buffer } from 'node:buffer'
import { isHeadersLike, readHeader } from './headers.js'
import type { HeadersLike } from './headers.js'
import {
  HEADER_AUTHORIZATION,
  HEADER_SIGNATURE,
  HEADER_SIGNATURE_NEXT,
  HEADER_TIMESTAMP,
  HEADER_WEBHOOK_ID,
  HEADER_WEBHOOK_SIGNATURE,
  HEADER_WEBHOOK_TIMESTAMP,
  isReceiverSigningMethod,
} from './methods.js'
import type { ReceiverSigningMethod } from './methods.js'
import { isRawBody, parseEvent, rawBodyBytes } from './parse-event.js'
import type { RawBody, VerifiedEvent } from './parse-event.js'
import { WebhookVerificationError } from './verification-error.js'

/** Five minutes, the skew receivers written for Kejue allow (docs/wire-format.md). */
export const DEFAULT_TOLERANCE_MS = 300_000

interface CommonVerifyOptions {
  /**
   * Largest allowed distance between `X-Kejue-Timestamp` and now, either way. `Infinity` turns
   * the check off (e.g. to verify a logged delivery later).
   * @defaultValue 300000
   */
  toleranceMs?: number
  /** The current time, for tests and replays. @defaultValue Date.now() */
  now?: number | Date
}

export interface SecretVerifyOptions extends CommonVerifyOptions {
  /** @defaultValue 'hmac_sha256' */
  method?: Exclude<ReceiverSigningMethod, 'none'>
  /**
   * The webhook's secret (for basic_auth, `user:password`). Several secrets accept a delivery
   * signed with any of them, which lets you rotate without downtime: during a rotation's overlap
   * a delivery carries `X-Kejue-Signature` (old secret) and `X-Kejue-Signature-Next` (new secret),
   * and either one matching any of these secrets accepts it.
   */
  secret: string | readonly string[]
}

export interface NoneVerifyOptions extends CommonVerifyOptions {
  method: 'none'
  secret?: undefined
}

export type VerifyOptions = SecretVerifyOptions | NoneVerifyOptions

export type SafeVerifyResult =
  | { ok: true, event: VerifiedEvent }
  | { ok: false, error: WebhookVerificationError }

// Caps checked before any parsing or hashing. A real signature header is 71 chars and a Unix-ms
// timestamp 13 digits; an Authorization header holds the secret, so it gets more room.
const MAX_SIGNATURE_LENGTH = 128
const MAX_TIMESTAMP_LENGTH = 20
const MAX_AUTHORIZATION_LENGTH = 8_192

const HMAC = {
  hmac_sha256: { algorithm: 'sha256', pattern: /^sha256=[0-9a-f]{64}$/ },
  hmac_sha1: { algorithm: 'sha1', pattern: /^sha1=[0-9a-f]{40}$/ },
} as const

// Digits only, no sign, no leading zero, no exponent: exactly what the signer writes.
const TIMESTAMP_PATTERN = /^(?:0|[1-9][0-9]{0,15})$/

interface ResolvedVerifyOptions {
  method: ReceiverSigningMethod
  secrets: readonly string[]
  toleranceMs: number
  nowMs: number
}

/**
 * Checks a delivery's authentication (docs/wire-format.md) and returns the parsed event. Throws only
 * `WebhookVerificationError`; match on its `code`.
 *
 * @param rawBody the request body exactly as received, before any JSON parsing
 * @param headers Node's `req.headers`, a Fetch `Headers`, or a plain object (any key case)
 * @example
 * const event = verify(req.body, req.headers, { secret: process.env.KEJUE_WEBHOOK_SECRET! })
 */
export function verify (rawBody: RawBody, headers: HeadersLike, options: VerifyOptions): VerifiedEvent {
  return parseEvent(authenticate(rawBody, headers, options))
}

/** `verify` without throwing. */
export function safeVerify (rawBody: RawBody, headers: HeadersLike, options: VerifyOptions): SafeVerifyResult {
  try {
    return { ok: true, event: verify(rawBody, headers, options) }
  } catch (error) {
    // Anything else would be a bug in this module; hiding it would help no one.
    if (error instanceof WebhookVerificationError) return { ok: false, error }
    throw error
  }
}

/** Only the authentication part of `verify`: checks headers against the body, parses nothing. */
export function verifySignature (rawBody: RawBody, headers: HeadersLike, options: VerifyOptions): void {
  authenticate(rawBody, headers, options)
}

function authenticate (rawBody: unknown, headers: unknown, options: unknown): Uint8Array {
  checkRawBody(rawBody)
  if (!isHeadersLike(headers)) throw new WebhookVerificationError('INVALID_OPTIONS')
  const resolved = resolveOptions(options)
  const body = rawBodyBytes(rawBody)
  switch (resolved.method) {
    case 'hmac_sha256':
    case 'hmac_sha1':
      checkHmac(resolved.method, body, headers, resolved)
      break
    case 'bearer':
    case 'basic_auth':
      checkAuthorization(resolved.method, headers, resolved.secrets)
      break
    case 'standard_webhooks':
      checkStandardWebhooks(body, headers, resolved)
      break
    case 'none':
      break
  }
  return body
}

/** The two mistakes users make most with the body get their own codes (docs/receiving.md). */
function checkRawBody (rawBody: unknown): asserts rawBody is RawBody {
  if (isRawBody(rawBody)) return
  if (rawBody === undefined || rawBody === null) throw new WebhookVerificationError('MISSING_BODY')
  // express.json(), Fastify's default parser or `await request.json()` ran first.
  if (typeof rawBody === 'object' && !ArrayBuffer.isView(rawBody)) throw new WebhookVerificationError('BODY_ALREADY_PARSED')
  throw new WebhookVerificationError('INVALID_OPTIONS')
}

function resolveOptions (options: unknown): ResolvedVerifyOptions {
  if (options === undefined) throw new WebhookVerificationError('MISSING_SECRET')
  if (typeof options !== 'object' || options === null) throw new WebhookVerificationError('INVALID_OPTIONS')
  const { method = 'hmac_sha256', secret, toleranceMs = DEFAULT_TOLERANCE_MS, now } = options as Record<string, unknown>
  if (!isReceiverSigningMethod(method)) throw new WebhookVerificationError('INVALID_OPTIONS')
  if (typeof toleranceMs !== 'number' || Number.isNaN(toleranceMs) || toleranceMs < 0) {
    throw new WebhookVerificationError('INVALID_OPTIONS')
  }
  const nowMs = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new WebhookVerificationError('INVALID_OPTIONS')
  if (method === 'none') return { method, secrets: [], toleranceMs, nowMs }
  const secrets: unknown[] = Array.isArray(secret) ? secret : [secret]
  // An unset environment variable (undefined) or an empty one ('') is the usual cause.
  if (secrets.length === 0 || secrets.some((s) => s === undefined || s === null || s === '')) {
    throw new WebhookVerificationError('MISSING_SECRET')
  }
  if (!secrets.every((s) => typeof s === 'string')) throw new WebhookVerificationError('INVALID_OPTIONS')
  return { method, secrets: secrets as string[], toleranceMs, nowMs }
}

function checkHmac (
  method: 'hmac_sha256' | 'hmac_sha1',
  body: Uint8Array,
  headers: HeadersLike,
  options: ResolvedVerifyOptions,
): void {
  const signature = readHeader(headers, HEADER_SIGNATURE, MAX_SIGNATURE_LENGTH)
  const timestamp = readHeader(headers, HEADER_TIMESTAMP, MAX_TIMESTAMP_LENGTH)
  if (signature.status === 'missing') throw new WebhookVerificationError('MISSING_HEADER', 'X-Kejue-Signature')
  if (timestamp.status === 'missing') throw new WebhookVerificationError('MISSING_HEADER', 'X-Kejue-Timestamp')
  if (timestamp.status === 'invalid' || !TIMESTAMP_PATTERN.test(timestamp.value)) {
    throw new WebhookVerificationError('INVALID_TIMESTAMP')
  }
  const timestampMs = Number(timestamp.value)
  if (!Number.isSafeInteger(timestampMs)) throw new WebhookVerificationError('INVALID_TIMESTAMP')
  // Both ways: a timestamp from the future is as suspect as a stale one.
  if (Math.abs(options.nowMs - timestampMs) > options.toleranceMs) {
    throw new WebhookVerificationError('TIMESTAMP_OUT_OF_RANGE')
  }
  const { algorithm, pattern } = HMAC[method]
  if (signature.status === 'invalid' || !pattern.test(signature.value)) {
    throw new WebhookVerificationError('INVALID_SIGNATURE_FORMAT')
  }
  // The pattern fixed the length, so both digests have the digest's size.
  const received = [Buffer.from(signature.value.slice(algorithm.length + 1), 'hex')]
  // Present only during a secret rotation's overlap; a malformed one is ignored, not fatal.
  const next = readHeader(headers, HEADER_SIGNATURE_NEXT, MAX_SIGNATURE_LENGTH)
  if (next.status === 'ok' && pattern.test(next.value)) received.push(Buffer.from(next.value.slice(algorithm.length + 1), 'hex'))
  let matched = false
  for (const secret of options.secrets) {
    const expected = createHmac(algorithm, secret).update(`${timestamp.value}.`).update(body).digest()
    // No early exit: every secret and signature is tried, so timing does not tell which one matched.
    for (const candidate of received) matched = timingSafeEqual(expected, candidate) || matched
  }
  if (!matched) throw new WebhookVerificationError('SIGNATURE_MISMATCH')
}

function checkAuthorization (
  method: 'bearer' | 'basic_auth',
  headers: HeadersLike,
  secrets: readonly string[],
): void {
  const header = readHeader(headers, HEADER_AUTHORIZATION, MAX_AUTHORIZATION_LENGTH)
  if (header.status === 'missing') throw new WebhookVerificationError('MISSING_HEADER', 'Authorization')
  if (header.status === 'invalid') throw new WebhookVerificationError('INVALID_SIGNATURE_FORMAT')
  const space = header.value.indexOf(' ')
  // The scheme is case-insensitive (RFC 9110 §11.1); the credentials are not.
  const scheme = space > 0 ? header.value.slice(0, space).toLowerCase() : ''
  const wanted = method === 'bearer' ? 'bearer' : 'basic'
  if (scheme !== wanted || space === header.value.length - 1) {
    throw new WebhookVerificationError('INVALID_SIGNATURE_FORMAT')
  }
  // Hash both sides so the comparison has a fixed length and says nothing about the secret's.
  const received = sha256(header.value.slice(space + 1))
  let matched = false
  for (const secret of secrets) {
    const credentials = method === 'bearer' ? secret : Buffer.from(secret, 'utf8').toString('base64')
    matched = timingSafeEqual(sha256(credentials), received) || matched
  }
  if (!matched) throw new WebhookVerificationError('SIGNATURE_MISMATCH')
}

// Standard Webhooks: a message id, Unix seconds, and up to a few space-separated "v1,<base64>".
const MAX_WEBHOOK_ID_LENGTH = 256
const MAX_WEBHOOK_SIGNATURE_LENGTH = 1_024
const SECONDS_PATTERN = /^(?:0|[1-9][0-9]{0,12})$/
const V1_SIGNATURE = /^v1,([A-Za-z0-9+/]{43}=)$/

/** The key of a Standard Webhooks secret: base64 after an optional `whsec_`. */
function standardWebhooksKey (secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64')
}

function checkStandardWebhooks (body: Uint8Array, headers: HeadersLike, options: ResolvedVerifyOptions): void {
  const id = readHeader(headers, HEADER_WEBHOOK_ID, MAX_WEBHOOK_ID_LENGTH)
  const timestamp = readHeader(headers, HEADER_WEBHOOK_TIMESTAMP, MAX_TIMESTAMP_LENGTH)
  const signature = readHeader(headers, HEADER_WEBHOOK_SIGNATURE, MAX_WEBHOOK_SIGNATURE_LENGTH)
  if (id.status === 'missing') throw new WebhookVerificationError('MISSING_HEADER', 'webhook-id')
  if (timestamp.status === 'missing') throw new WebhookVerificationError('MISSING_HEADER', 'webhook-timestamp')
  if (signature.status === 'missing') throw new WebhookVerificationError('MISSING_HEADER', 'webhook-signature')
  if (timestamp.status === 'invalid' || !SECONDS_PATTERN.test(timestamp.value)) throw new WebhookVerificationError('INVALID_TIMESTAMP')
  if (Math.abs(options.nowMs - Number(timestamp.value) * 1000) > options.toleranceMs) {
    throw new WebhookVerificationError('TIMESTAMP_OUT_OF_RANGE')
  }
  if (id.status === 'invalid' || signature.status === 'invalid') throw new WebhookVerificationError('INVALID_SIGNATURE_FORMAT')
  // Several signatures (a secret rotation) may be given; any v1 one that matches will do.
  const received = signature.value.split(' ').map((part) => V1_SIGNATURE.exec(part)?.[1]).filter((s) => s !== undefined)
  if (received.length === 0) throw new WebhookVerificationError('INVALID_SIGNATURE_FORMAT')
  const receivedBytes = received.map((s) => Buffer.from(s, 'base64'))
  let matched = false
  for (const secret of options.secrets) {
    const expected = createHmac('sha256', standardWebhooksKey(secret))
      .update(`${id.value}.${timestamp.value}.`).update(body).digest()
    for (const bytes of receivedBytes) matched = timingSafeEqual(expected, bytes) || matched
  }
  if (!matched) throw new WebhookVerificationError('SIGNATURE_MISMATCH')
}

function sha256 (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
