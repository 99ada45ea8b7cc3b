import { newId } from '../util/ids.js'
import type { EventType } from './event-types.js'
import type { KejueEnvelope } from '../receiver/events.js'

/**
 * What every delivery's body holds (contract §1), in this key order. Written once, as the
 * receiver's dependency-free type (src/receiver/events.ts), which receivers see too.
 */
export type Envelope<T extends string = EventType, D = Record<string, unknown>> = KejueEnvelope<T, D>

export interface EnvelopeInput {
  event: EventType
  workspaceId: string
  data: Record<string, unknown>
  metadata?: Record<string, unknown>
  eventId?: string
  timestamp?: Date | string
}

export function createEnvelope (input: EnvelopeInput): Envelope {
  const timestamp = input.timestamp === undefined
    ? new Date().toISOString()
    : new Date(input.timestamp).toISOString()
  return {
    event: input.event,
    event_id: input.eventId ?? newId('evt'),
    workspace_id: input.workspaceId,
    timestamp,
    data: input.data,
    metadata: input.metadata ?? {},
  }
}

/**
 * The bytes that are signed and sent. Serialized once when the event is accepted and stored as
 * is, so every webhook and every retry gets exactly these bytes (contract §1).
 */
export function serializeEnvelope (envelope: Envelope): string {
  return JSON.stringify(envelope)
}
