/**
 * Routing (docs/wire-format.md#routing): which webhooks get an event.
 *
 * - A subscription gets an event when its `events` hold the type or "*", and for scope_type
 *   "persona" the event belongs to its persona_id. A disabled one gets it parked (docs/delivery.md,
 *   "Parking"), except a `listen` session's webhook (cli://), which a disabled session skips.
 * - An operational event (webhook.disabled) goes to every subscription naming it, whatever its scope.
 * - A call created with inline webhooks sends its call.* events to those only, each filtered by
 *   its own `events`, and to none of the workspace's subscriptions. Campaign events are unaffected.
 */
import { matchesEventFilter } from '../events/event-types.js'
import type { Webhook } from '../store/store.js'
import { isCliWebhook } from './cli-hub.js'

/** The call an event belongs to: `data.job_id`, or `data.call.id` for call.analyzed (docs/wire-format.md#routing). */
export function eventJobId (type: string, data: Record<string, unknown>): string | null {
  if (!type.startsWith('call.')) return null
  if (typeof data.job_id === 'string') return data.job_id
  const call = data.call
  if (typeof call === 'object' && call !== null && 'id' in call && typeof call.id === 'string') return call.id
  return null
}

/** The persona an event names itself, when it does (`data.persona_id`). */
export function eventPersonaId (data: Record<string, unknown>): string | null {
  return typeof data.persona_id === 'string' && data.persona_id !== '' ? data.persona_id : null
}

export function isCallEvent (type: string): boolean {
  return type.startsWith('call.')
}

/**
 * The workspace subscriptions that get an event of `type` belonging to `personaId`. `webhooks`
 * may be every subscription of the workspace or only the store's candidates (Store.routeWebhooks,
 * which include disabled webhooks): the rule is applied here either way.
 */
export function selectSubscriptions (webhooks: readonly Webhook[], type: string, personaId: string | null): Webhook[] {
  return webhooks.filter((webhook) =>
    (webhook.enabled || !isCliWebhook(webhook)) &&
    webhook.jobId === null &&
    matchesEventFilter(webhook.events, type) &&
    (webhook.scopeType === 'global' || (personaId !== null && webhook.personaId === personaId)))
}

/** The subscriptions that get an operational event: those naming it ("*" does not), any scope. */
export function selectOperational (webhooks: readonly Webhook[], type: string): Webhook[] {
  return webhooks.filter((webhook) => webhook.jobId === null && webhook.events.includes(type) && (webhook.enabled || !isCliWebhook(webhook)))
}

/** A call's inline webhooks that get an event of `type`, each by its own `events` list. */
export function selectInline (inline: readonly Webhook[], type: string): Webhook[] {
  return inline.filter((webhook) => webhook.enabled && matchesEventFilter(webhook.events, type))
}
