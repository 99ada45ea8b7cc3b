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

function requireSecret (secret: string | null): string {
  // A bug, not user input: the API refuses to store such a webhook.
  if (secret === null || secret === '') throw new TypeError('this signing method needs a secret')
  return secret
}
