/**
 * Accepting an event: route it, then store it with all its deliveries in one transaction. Every
 * producer goes through here: POST /events, a webhook's test send, the simulator and `trigger`.
 * Once this resolves the event is durable and will be delivered or recorded as failed.
 */
import { createEnvelope, serializeEnvelope } from '../events/envelope.js'
import { validateEventData } from '../events/validate.js'
import { validationError } from '../errors.js'
import { eventKeys } from '../events/event-keys.js'
import { eventFilters, isOperationalEventType } from '../events/event-types.js'
import type { EventType, OperationalEventType } from '../events/event-types.js'
import { matchesFilter } from '../events/filter.js'
import { newId } from '../util/ids.js'
import type { NewDelivery, Store, Webhook } from '../store/store.js'
import { newDeliveryState } from './endpoint-health.js'
import { handOff } from './handoff.js'
import { routeCandidates } from './route-cache.js'
import { eventJobId, eventPersonaId, isCallEvent, selectInline, selectOperational, selectSubscriptions } from './routing.js'

export interface AcceptEventInput {
  workspaceId: string
  /** An operational type (webhook.disabled) only from the service itself, never from a producer. */
  event: EventType | OperationalEventType
  /** Checked against the event catalog here: a bad payload is a VALIDATION error naming the field. */
  data: Record<string, unknown>
  metadata?: Record<string, unknown>
  eventId?: string
  timestamp?: Date | string
  /** Deliver to this webhook only, whatever its filters (a test send). */
  onlyWebhook?: Webhook
}

export interface AcceptedEvent {
  eventId: string
  /** False when the event id was already known: nothing new was stored or sent. */
  created: boolean
  deliveries: number
  /** The ids of the deliveries created now (empty when `created` is false). */
  deliveryIds: string[]
}

export async function acceptEvent (store: Store, input: AcceptEventInput, now: Date = new Date()): Promise<AcceptedEvent> {
  // A known event id gets the first answer, whatever the body (idempotent replays).
  const known = input.eventId === undefined ? null : await store.getEvent(input.workspaceId, input.eventId)
  if (known !== null) {
    const again = await store.recordEvent({ event: known, deliveries: [] })
    return { eventId: again.eventId, created: false, deliveries: again.deliveries, deliveryIds: [] }
  }
  const valid = isOperationalEventType(input.event) ? { ok: true as const } : validateEventData(input.event, input.data)
  if (!valid.ok) throw validationError(`invalid ${String(input.event)} data: ${valid.errors.map((e) => e.message).join('; ')}`, valid.errors)
  const envelope = createEnvelope({
    event: input.event,
    workspaceId: input.workspaceId,
    data: input.data,
    metadata: input.metadata,
    eventId: input.eventId,
    timestamp: input.timestamp ?? now,
  })
  // A test send goes to its webhook whatever the filter; routed events only where it matches.
  const targets = input.onlyWebhook !== undefined
    ? [input.onlyWebhook]
    : (await routeEvent(store, input.workspaceId, input.event, input.data)).filter((webhook) => matchesFilter(webhook.filter, envelope))

  const jobId = eventJobId(input.event, input.data)
  const deliveries: NewDelivery[] = targets.map((webhook) => ({
    id: newId('dlv'),
    webhookId: webhook.id,
    url: webhook.url,
    maxAttempts: 1 + (webhook.retryScheduleMs?.length ?? webhook.maxRetries),
    // A test send goes now, whatever the breaker; otherwise parked or held by the webhook's state.
    ...(input.onlyWebhook !== undefined ? { nextAttemptAt: now, skipBreaker: true } : newDeliveryState(webhook, now)),
    // Per-call ordering (docs/delivery.md): one at a time per call, in acceptance order. A test
    // send goes now, outside the queue (its sample job is no real call).
    orderKey: webhook.ordering === 'per_call' && input.onlyWebhook === undefined ? jobId : null,
  }))
  const body = serializeEnvelope(envelope)
  // Deliveries this process's engine takes now are recorded leased to it (handoff.ts).
  const ticket = handOff(store, deliveries, targets, now)
  let result
  try {
    result = await store.recordEvent({
      event: {
        id: envelope.event_id,
        workspaceId: input.workspaceId,
        type: input.event,
        body,
        createdAt: now,
      },
      deliveries,
      call: jobId === null ? undefined : { jobId, personaId: eventPersonaId(input.data) },
      keys: eventKeys(input.data),
    })
  } catch (err) {
    ticket?.cancel()
    throw err
  }
  if (result.created) ticket?.take({ id: envelope.event_id, type: input.event, body })
  else ticket?.cancel()
  return {
    eventId: result.eventId,
    created: result.created,
    deliveries: result.deliveries,
    deliveryIds: result.created ? deliveries.map((d) => d.id) : [],
  }
}

/** The webhooks that get an event (docs/wire-format.md#routing). */
export async function routeEvent (
  store: Store,
  workspaceId: string,
  type: EventType | OperationalEventType,
  data: Record<string, unknown>,
): Promise<Webhook[]> {
  // Every webhook naming it, whatever its scope; rare, so the listing is read.
  if (isOperationalEventType(type)) return selectOperational(await store.listWebhooks(workspaceId), type)
  const jobId = eventJobId(type, data)
  const filters = eventFilters(type)
  // The store reads only the candidates from its routing index, never the whole workspace:
  // ingest costs the same with one webhook or ten thousand (docs/storage.md, "Routing index"),
  // and they come from memory while the workspace's webhooks do not change (route-cache.ts).
  // The routes version and the event's call come in one read, before the candidates.
  const { routesVersion, call } = await store.routingState(workspaceId, jobId)
  if (call !== null && call.hasInlineWebhooks && isCallEvent(type)) {
    return selectInline(await store.listInlineWebhooks(workspaceId, call.jobId), type)
  }
  // A call's persona comes from its creation or its call.started, so call.ended and
  // call.analyzed of the same job are scoped too.
  const personaId = eventPersonaId(data) ?? call?.personaId ?? null
  const candidates = await routeCandidates(store, workspaceId, filters, personaId, routesVersion)
  return selectSubscriptions(candidates, type, personaId)
}
