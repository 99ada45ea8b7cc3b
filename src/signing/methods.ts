/** The signing methods of the spec ("Webhook Signing & Verification"); hmac_sha256 is the default. */
export const SIGNING_METHODS = ['hmac_sha256', 'hmac_sha1', 'bearer', 'basic_auth', 'none'] as const

export type SigningMethod = (typeof SIGNING_METHODS)[number]

export const DEFAULT_SIGNING_METHOD: SigningMethod = 'hmac_sha256'

export function isSigningMethod (value: unknown): value is SigningMethod {
  return typeof value === 'string' && (SIGNING_METHODS as readonly string[]).includes(value)
}

/** Whether a method sends a secret; `none` is the only one that does not. */
export function methodNeedsSecret (method: SigningMethod): boolean {
  return method !== 'none'
}
