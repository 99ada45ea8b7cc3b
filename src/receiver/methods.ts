/**
 * The signing methods (spec "Webhook Signing & Verification", docs/wire-format.md). A copy of
 * src/signing/methods.ts on purpose: the receiver imports nothing outside this folder at runtime,
 * so it can ship on its own. A test keeps the two lists equal.
 */
export const RECEIVER_SIGNING_METHODS = ['hmac_sha256', 'hmac_sha1', 'bearer', 'basic_auth', 'none', 'standard_webhooks'] as const

export type ReceiverSigningMethod = (typeof RECEIVER_SIGNING_METHODS)[number]

export function isReceiverSigningMethod (value: unknown): value is ReceiverSigningMethod {
  return typeof value === 'string' && (RECEIVER_SIGNING_METHODS as readonly string[]).includes(value)
}

/** The header names of docs/wire-format.md, lowercase as Node delivers them. */
export const HEADER_SIGNATURE = 'x-kejue-signature'
/** During a secret rotation's overlap: the same signature made with the new secret. */
export const HEADER_SIGNATURE_NEXT = 'x-kejue-signature-next'
export const HEADER_TIMESTAMP = 'x-kejue-timestamp'
export const HEADER_AUTHORIZATION = 'authorization'
/** Standard Webhooks headers (docs/wire-format.md), lowercase. */
export const HEADER_WEBHOOK_ID = 'webhook-id'
export const HEADER_WEBHOOK_TIMESTAMP = 'webhook-timestamp'
export const HEADER_WEBHOOK_SIGNATURE = 'webhook-signature'
