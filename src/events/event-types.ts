/** The eight event types of the spec ("Event Types"), as the strings receivers see. */
export const EVENT_TYPES = [
  'call.started',
  'call.ended',
  'call.analyzed',
  'campaign.started',
  'campaign.ended',
  'campaign.paused',
  'campaign.resumed',
  'campaign.failed',
] as const

export type EventType = (typeof EVENT_TYPES)[number]

/**
 * Operational events: the service's own news about a webhook (docs/events.md), not Kejue call or
 * campaign events. Producers cannot post them, "*" does not select them, inline webhooks cannot
 * list them; a subscription gets one only by naming it.
 */
export const OPERATIONAL_EVENT_TYPES = ['webhook.disabled'] as const
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number]

export function isOperationalEventType (value: unknown): value is OperationalEventType {
  return typeof value === 'string' && (OPERATIONAL_EVENT_TYPES as readonly string[]).includes(value)
}

/** What a subscription may list: an event type or the wildcard (spec: "Use the wildcard *"). */
export type EventFilter = EventType | '*'

export function isEventType (value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value)
}

/**
 * The `events` entries that select an event of `type`: the type itself and the wildcard "*".
 * Routing asks the store for webhooks listing one of these (Store.routeWebhooks) and decides in
 * memory with matchesEventFilter below, so the two cannot disagree. A type that only its name
 * may select (the operational webhook.disabled, which "*" does not match) returns `[type]` here.
 */
export function eventFilters (type: string): string[] {
  return isOperationalEventType(type) ? [type] : [type, '*']
}

/** True when a subscription's `events` list selects `type`. */
export function matchesEventFilter (filters: readonly string[], type: string): boolean {
  return eventFilters(type).some((filter) => filters.includes(filter))
}
