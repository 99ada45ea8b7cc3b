/**
 * Secret rotation with overlap (docs/wire-format.md, "Secret rotation"): the rule, once, for the
 * API (POST /webhooks/{id}/rotate-secret, the webhook object's `secret_rotation`) and the engine
 * (which secret signs which header).
 */
import type { SigningMethod } from '../signing/methods.js'
import type { Webhook, WebhookPatch } from '../store/store.js'

/** Methods whose receivers check a signature, so two secrets can be valid at once. */
export function rotatesWithOverlap (method: SigningMethod): boolean {
  return method === 'hmac_sha256' || method === 'hmac_sha1' || method === 'standard_webhooks'
}

/** The previous secret while its overlap runs at `nowMs`, else null. */
export function previousSecretInUse (webhook: Pick<Webhook, 'previousSecret' | 'previousSecretExpiresAt'>, nowMs: number): string | null {
  if (webhook.previousSecret === null || webhook.previousSecretExpiresAt === null) return null
  return webhook.previousSecretExpiresAt.getTime() > nowMs ? webhook.previousSecret : null
}

/**
 * The patch that rotates to `secret`. With an overlap, the current secret keeps signing
 * `X-Kejue-Signature` until `now + overlapMs`; a rotation during an overlap drops the oldest
 * secret at once and starts a new overlap from the then-current one. Bearer and basic_auth, and
 * an overlap of 0, switch at once.
 */
export function rotationPatch (webhook: Webhook, secret: string, overlapMs: number, now: Date): WebhookPatch {
  if (overlapMs <= 0 || !rotatesWithOverlap(webhook.signingMethod) || webhook.secret === null) {
    return { secret, previousSecret: null, previousSecretExpiresAt: null }
  }
  return { secret, previousSecret: webhook.secret, previousSecretExpiresAt: new Date(now.getTime() + overlapMs) }
}
