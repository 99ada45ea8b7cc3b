/**
 * The signing methods of the spec ("Webhook Signing & Verification"), plus the Standard Webhooks
 * scheme (docs/wire-format.md); hmac_sha256 is the default.
 */
export const SIGNING_METHODS = ['hmac_sha256', 'hmac_sha1', 'bearer', 'basic_auth', 'none', 'standard_webhooks'] as const

export type SigningMethod = (typeof SIGNING_METHODS)[number]

export const DEFAULT_SIGNING_METHOD: SigningMethod = 'hmac_sha256'

export function isSigningMethod (value: unknown): value is SigningMethod {
  return typeof value === 'string' && (SIGNING_METHODS as readonly string[]).includes(value)
}

/** Whether a method sends a secret; `none` is the only one that does not. */
export function methodNeedsSecret (method: SigningMethod): boolean {
  return method !== 'none'
}

/** Standard Webhooks secrets are `whsec_` + base64 of the key bytes (docs/wire-format.md). */
export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_'

/** The key bytes of a `whsec_<base64>` secret, or null when it is not in that form (16–64 bytes). */
export function standardWebhooksKey (secret: string): Buffer | null {
  if (!secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)) return null
  const encoded = secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length)
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) return null
  const key = Buffer.from(encoded, 'base64')
  return key.length >= 16 && key.length <= 64 ? key : null
}
