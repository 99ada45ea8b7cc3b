import { createHmac } from 'node:crypto'
import type { SigningMethod } from './methods.js'
import { standardWebhooksKey } from './methods.js'

/**
 * The authentication headers for one attempt (docs/wire-format.md). `timestampMs` is taken when the
 * attempt is sent, so each retry is signed afresh over the same body bytes. `messageId` (the
 * delivery id) is signed by standard_webhooks only.
 *
 * @example signHeaders('hmac_sha256', 'whsec_x', body, Date.now())
 * // { 'X-Kejue-Timestamp': '1736937000000', 'X-Kejue-Signature': 'sha256=5f…' }
 */
export function signHeaders (
  method: SigningMethod,
  secret: string | null,
  body: string | Buffer,
  timestampMs: number,
  messageId = '',
): Record<string, string> {
  switch (method) {
    case 'hmac_sha256':
    case 'hmac_sha1': {
      const algorithm = method === 'hmac_sha256' ? 'sha256' : 'sha1'
      const timestamp = String(Math.trunc(timestampMs))
      const digest = createHmac(algorithm, requireSecret(secret))
        .update(`${timestamp}.`)
        .update(body)
        .digest('hex')
      return { 'X-Kejue-Timestamp': timestamp, 'X-Kejue-Signature': `${algorithm}=${digest}` }
    }
    case 'bearer':
      return { Authorization: `Bearer ${requireSecret(secret)}` }
    case 'basic_auth':
      return { Authorization: `Basic ${Buffer.from(requireSecret(secret), 'utf8').toString('base64')}` }
    case 'none':
      return {}
    case 'standard_webhooks': {
      // https://www.standardwebhooks.com: Unix seconds; HMAC-SHA256 of "<id>.<ts>.<body>" keyed
      // with the base64-decoded secret, base64, as "v1,<signature>".
      const key = standardWebhooksKey(requireSecret(secret))
      if (key === null) throw new TypeError('standard_webhooks needs a whsec_<base64> secret')
      if (messageId === '') throw new TypeError('standard_webhooks signs the delivery id: pass it')
      const timestamp = String(Math.floor(timestampMs / 1000))
      const signature = createHmac('sha256', key).update(`${messageId}.${timestamp}.`).update(body).digest('base64')
      return { 'webhook-id': messageId, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` }
    }
  }
}

/** The header that carries the new secret's signature during a rotation overlap (docs/wire-format.md). */
export const SIGNATURE_NEXT_HEADER = 'X-Kejue-Signature-Next'

/**
 * signHeaders during a secret rotation's overlap (docs/wire-format.md, "Secret rotation"):
 * `X-Kejue-Signature` is still made with the previous secret, so receivers not yet updated keep
 * working, and `X-Kejue-Signature-Next` carries the new secret's signature over the same
 * "<timestamp>.<body>". standard_webhooks carries both in its own header instead, space-separated
 * as the Standard Webhooks libraries read it: `webhook-signature: v1,<old> v1,<new>`. Without a
 * previous secret (no overlap) it is signHeaders. Methods that send the secret itself (bearer,
 * basic_auth) rotate at once and have no overlap.
 *
 * @example signHeadersDuringRotation('hmac_sha256', 'whsec_new', 'whsec_old', body, Date.now())
 * // { 'X-Kejue-Timestamp': '…', 'X-Kejue-Signature': 'sha256=<old>', 'X-Kejue-Signature-Next': 'sha256=<new>' }
 */
export function signHeadersDuringRotation (
  method: SigningMethod,
  secret: string | null,
  previousSecret: string | null,
  body: string | Buffer,
  timestampMs: number,
  messageId = '',
): Record<string, string> {
  const current = signHeaders(method, secret, body, timestampMs, messageId)
  if (previousSecret === null) return current
  if (method === 'standard_webhooks') {
    const previous = signHeaders(method, previousSecret, body, timestampMs, messageId)
    return { ...current, 'webhook-signature': `${previous['webhook-signature'] ?? ''} ${current['webhook-signature'] ?? ''}` }
  }
  if (method !== 'hmac_sha256' && method !== 'hmac_sha1') return current
  const previous = signHeaders(method, previousSecret, body, timestampMs, messageId)
  return { ...previous, [SIGNATURE_NEXT_HEADER]: current['X-Kejue-Signature'] ?? '' }
}

function requireSecret (secret: string | null): string {
  // A bug, not user input: the API refuses to store such a webhook.
  if (secret === null || secret === '') throw new TypeError('this signing method needs a secret')
  return secret
}
