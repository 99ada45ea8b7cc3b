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

/** What a subscription may list: an event type or the wildcard (spec: "Use the wildcard *"). */
export type EventFilter = EventType | '*'

export function isEventType (value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value)
}

/** True when a subscription's `events` list selects `type`. */
export function matchesEventFilter (filters: readonly string[], type: string): boolean {
  return filters.includes('*') || filters.includes(type)
}
