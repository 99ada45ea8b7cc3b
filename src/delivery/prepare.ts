import { signHeadersDuringRotation } from '../signing/signer.js'
import type { ClaimedDelivery, Webhook } from '../store/store.js'
import type { OutgoingRequest } from './outcome.js'
import { previousSecretInUse } from './secret-rotation.js'

/**
 * The request for one attempt (docs/wire-format.md): the stored body bytes as they are, the
 * webhook's custom headers (docs/api.md; the API refused any name the service sets, and the
 * service's own come last all the same), the delivery headers, and a signature made now, so a
 * retry is signed afresh. During a secret rotation's overlap it is signed with both secrets
 * (secret-rotation.ts).
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
      ...signHeadersDuringRotation(webhook.signingMethod, webhook.secret, previousSecretInUse(webhook, nowMs), claim.body, nowMs, claim.deliveryId),
    },
  }
}
