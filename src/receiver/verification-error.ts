/**
 * The one error `verify` throws. Each code has a fixed message: it never carries the secret, the
 * expected signature or anything the sender put in a header, so it is safe to log and to return
 * (standard-webhooks' rule for verification failures). docs/receiving.md lists every code.
 */
export const VERIFICATION_ERROR_MESSAGES = {
  // Mistakes in the receiver's own code or setup: `status` 500, so Kejue retries while you fix it.
  MISSING_SECRET:
    'verify() got no secret: pass the webhook\'s signing secret (a non-empty string, or an array of them) '
    + 'as options.secret; is the environment variable that should hold it set?',
  BODY_ALREADY_PARSED:
    'verify() got a parsed object instead of the raw request body: the signature covers the exact bytes, '
    + 'so read the body as a Buffer or string (express.raw(), a buffer content-type parser, await request.text())',
  MISSING_BODY:
    'verify() got no request body (undefined or null): read the raw body before calling it '
    + '(express.raw(), a buffer content-type parser, await request.text())',
  INVALID_OPTIONS:
    'verify() was called incorrectly: pass the raw request body (string, Buffer, Uint8Array or ArrayBuffer), '
    + 'a headers object, a non-empty secret, a known method and a non-negative toleranceMs',
  // The request is not a genuine delivery: `status` 400, a permanent failure Kejue does not retry.
  MISSING_HEADER: 'A required webhook authentication header is missing',
  INVALID_SIGNATURE_FORMAT: 'The signature or Authorization header is malformed, duplicated or uses another method',
  SIGNATURE_MISMATCH: 'The webhook signature does not match',
  INVALID_TIMESTAMP: 'The X-Kejue-Timestamp header is not a single integer of Unix milliseconds',
  TIMESTAMP_OUT_OF_RANGE: 'The X-Kejue-Timestamp header is outside the allowed tolerance',
  INVALID_BODY: 'The webhook body is not a UTF-8 JSON Kejue event envelope',
} as const

export type WebhookVerificationErrorCode = keyof typeof VERIFICATION_ERROR_MESSAGES

export const VERIFICATION_ERROR_CODES = Object.keys(VERIFICATION_ERROR_MESSAGES) as WebhookVerificationErrorCode[]

/** Codes that mean the receiver called verify() wrongly, not that the request is forged. */
const RECEIVER_FAULTS: ReadonlySet<WebhookVerificationErrorCode> = new Set<WebhookVerificationErrorCode>([
  'MISSING_SECRET', 'BODY_ALREADY_PARSED', 'MISSING_BODY', 'INVALID_OPTIONS',
])

/** The authentication headers, as named in `err.header` for `MISSING_HEADER`. */
export type AuthenticationHeader = 'X-Kejue-Signature' | 'X-Kejue-Timestamp' | 'Authorization'
  | 'webhook-id' | 'webhook-timestamp' | 'webhook-signature'

/** Match on `err.code`; the message is fixed per code (and, for MISSING_HEADER, per header). */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationErrorCode
  /**
   * The status to answer with: 500 when the receiver itself is at fault (no secret, a parsed
   * body), so Kejue retries while it is fixed; 400 when the request is not a genuine delivery,
   * which Kejue does not retry.
   */
  readonly status: 400 | 500
  /** For `MISSING_HEADER`: which header is missing; otherwise null. */
  readonly header: AuthenticationHeader | null

  constructor (code: WebhookVerificationErrorCode, header: AuthenticationHeader | null = null) {
    super(header === null ? VERIFICATION_ERROR_MESSAGES[code] : `${VERIFICATION_ERROR_MESSAGES[code]}: ${header}`)
    this.name = 'WebhookVerificationError'
    this.code = code
    this.status = RECEIVER_FAULTS.has(code) ? 500 : 400
    this.header = header
  }
}

export function isWebhookVerificationError (value: unknown): value is WebhookVerificationError {
  return value instanceof WebhookVerificationError
}
