import { signHeadersDuringRotation } from '../signing/signer.js'
import type { ClaimedDelivery, Webhook } from '../store/store.js'
import type { OutgoingRequest } from './outcome.js'
import { previousSecretInUse } from './secret-rotation.js'

/**
 * The request for one attempt (docs/wire-format.md): the stored body bytes as they are, the
 * webhook's custom headers (docs/api.md; the API refused any name the service sets, and the
 * service's own come last all the same), the delivery headers, and what signs it now, so a
 * retry is signed afresh. During a secret rotation's overlap it is signed with both secrets
 * (secret-rotation.ts). The sender adds the signature (signedHeaders) as the request leaves.
 */
export function prepareRequest (claim: ClaimedDelivery, webhook: Webhook, nowMs: number): OutgoingRequest {
  return {
    webhookId: webhook.id,
    url: webhook.url,
    timeoutMs: webhook.timeoutMs,
    body: claim.body,
    headers: {
      ...webhook.headers,
      'X-Kejue-Event': claim.eventType,
      'X-Kejue-Event-Id': claim.eventId,
      'X-Kejue-Delivery-Id': claim.deliveryId,
      'X-Kejue-Attempt': String(claim.attempt),
    },
    signing: {
      method: webhook.signingMethod,
      secret: webhook.secret,
      previousSecret: previousSecretInUse(webhook, nowMs),
      timestampMs: nowMs,
      messageId: claim.deliveryId,
    },
  }
}

/** A request's headers with its signature last (it wins over any header of the same name). */
export function signedHeaders (request: OutgoingRequest): Record<string, string> {
  const { signing } = request
  if (signing === undefined) return request.headers
  return {
    ...request.headers,
    ...signHeadersDuringRotation(signing.method, signing.secret, signing.previousSecret, request.body, signing.timestampMs, signing.messageId),
  }
}
