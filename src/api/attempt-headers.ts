/**
 * The request headers an attempt was sent with, for the delivery log (docs/api.md,
 * "request_headers"). They are not stored: they are rebuilt with the same functions the engine
 * and the sender use (delivery/prepare.ts: prepareRequest, then signedHeaders), from the
 * delivery, the attempt's number and start time and the webhook as it is now, and every value
 * that could hold a secret is masked. So they show exactly which headers went out; a webhook
 * whose signing settings changed since shows today's scheme.
 */
import { prepareRequest, signedHeaders } from '../delivery/prepare.js'
import type { Attempt, Delivery, Webhook } from '../store/store.js'
import { USER_AGENT } from '../util/version.js'

/** Headers whose values carry no secret and are shown as sent; every other value is masked. */
const SHOWN = new Set([
  'content-type', 'user-agent', 'x-kejue-event', 'x-kejue-event-id', 'x-kejue-delivery-id', 'x-kejue-attempt',
  'x-kejue-timestamp', 'webhook-id', 'webhook-timestamp',
])
export const MASK = '••••••'
/**
 * Stands in for the secrets while rebuilding; never shown (the values it signs are masked). A
 * standard_webhooks key must be `whsec_<base64>` to sign at all.
 */
function placeholder (webhook: Webhook, secret: string | null): string | null {
  if (secret === null) return null
  return webhook.signingMethod === 'standard_webhooks' ? `whsec_${Buffer.from('masked-placeholder').toString('base64')}` : 'masked:masked'
}

/** `sha256=…` keeps its scheme, `Bearer …` its kind; the rest is masked. */
function mask (value: string): string {
  const scheme = /^([A-Za-z0-9_-]+[= ])/.exec(value)
  return `${scheme?.[1] ?? ''}${MASK}`
}

export function attemptRequestHeaders (delivery: Delivery, attempt: Attempt, webhook: Webhook): Record<string, string> {
  const request = prepareRequest({
    deliveryId: delivery.id,
    leaseToken: '',
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    body: '',
    attempt: attempt.attempt,
    maxAttempts: delivery.maxAttempts,
    skipBreaker: false,
    webhook,
  }, { ...webhook, secret: placeholder(webhook, webhook.secret), previousSecret: placeholder(webhook, webhook.previousSecret) }, attempt.startedAt.getTime())
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT }
  for (const [name, value] of Object.entries(signedHeaders(request))) {
    headers[name] = SHOWN.has(name.toLowerCase()) ? value : mask(value)
  }
  return headers
}
