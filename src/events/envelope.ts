import { newId } from '../util/ids.js'
import type { EventType } from './event-types.js'

/** What every delivery's body holds (contract §1), in this key order. */
export interface Envelope<T extends string = EventType, D = Record<string, unknown>> {
  event: T
  event_id: string
  workspace_id: string
  /** The event's time, ISO-8601 UTC. */
  timestamp: string
  data: D
  metadata: Record<string, unknown>
}

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
