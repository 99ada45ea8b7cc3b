import { signHeaders } from '../signing/signer.js'
import type { ClaimedDelivery, Webhook } from '../store/store.js'
import type { OutgoingRequest } from './outcome.js'

/**
 * The request for one attempt (docs/wire-format.md): the stored body bytes as they are, the
 * webhook's custom headers (docs/api.md; the API refused any name the service sets, and the
 * service's own come last all the same), the delivery headers, and a signature made now, so a
 * retry is signed afresh.
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
      ...signHeaders(webhook.signingMethod, webhook.secret, claim.body, nowMs, claim.deliveryId),
    },
  }
}
