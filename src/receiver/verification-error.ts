/**
 * The one error `verify` throws. Each code has a fixed message: it never carries the secret, the
 * expected signature or anything the sender put in a header, so it is safe to log and to return
 * (standard-webhooks' rule for verification failures).
 */
export const VERIFICATION_ERROR_MESSAGES = {
  INVALID_OPTIONS:
    'verify() was called incorrectly: pass the raw request body (string, Buffer, Uint8Array or ArrayBuffer), '
    + 'a headers object, a non-empty secret, a known method and a non-negative toleranceMs',
  MISSING_HEADER: 'A required webhook authentication header is missing',
  INVALID_SIGNATURE_FORMAT: 'The signature or Authorization header is malformed, duplicated or uses another method',
  SIGNATURE_MISMATCH: 'The webhook signature does not match',
  INVALID_TIMESTAMP: 'The X-Kejue-Timestamp header is not a single integer of Unix milliseconds',
  TIMESTAMP_OUT_OF_RANGE: 'The X-Kejue-Timestamp header is outside the allowed tolerance',
  INVALID_BODY: 'The webhook body is not a UTF-8 JSON Kejue event envelope',
} as const

export type WebhookVerificationErrorCode = keyof typeof VERIFICATION_ERROR_MESSAGES

export const VERIFICATION_ERROR_CODES = Object.keys(VERIFICATION_ERROR_MESSAGES) as WebhookVerificationErrorCode[]

/** Match on `err.code`; the message is fixed per code. */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationErrorCode

  constructor (code: WebhookVerificationErrorCode) {
    super(VERIFICATION_ERROR_MESSAGES[code])
    this.name = 'WebhookVerificationError'
    this.code = code
  }
}

export function isWebhookVerificationError (value: unknown): value is WebhookVerificationError {
  return value instanceof WebhookVerificationError
}
