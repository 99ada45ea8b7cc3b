import { createHmac } from 'node:crypto'
import type { SigningMethod } from './methods.js'

/**
 * The authentication headers for one attempt (docs/wire-format.md). `timestampMs` is taken when the
 * attempt is sent, so each retry is signed afresh over the same body bytes.
 *
 * @example signHeaders('hmac_sha256', 'whsec_x', body, Date.now())
 * // { 'X-Kejue-Timestamp': '1736937000000', 'X-Kejue-Signature': 'sha256=5f…' }
 */
export function signHeaders (
  method: SigningMethod,
  secret: string | null,
  body: string | Buffer,
  timestampMs: number,
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
  }
}

function requireSecret (secret: string | null): string {
  // A bug, not user input: the API refuses to store such a webhook.
  if (secret === null || secret === '') throw new TypeError('this signing method needs a secret')
  return secret
}
