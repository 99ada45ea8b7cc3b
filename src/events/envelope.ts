import { validationError } from '../errors.js'
import type { FieldError } from '../errors.js'
import { newId } from '../util/ids.js'
import type { KejueEnvelope } from '../receiver/events.js'
import type { EventType, OperationalEventType } from './event-types.js'

/**
 * What every delivery's body holds (docs/wire-format.md), in this key order: the receiver
 * package's KejueEnvelope, so the service and its receivers share one definition.
 */
export type Envelope<T extends string = EventType, D = Record<string, unknown>> = KejueEnvelope<T, D>

export interface EnvelopeInput {
  event: EventType | OperationalEventType
  workspaceId: string
  data: Record<string, unknown>
  metadata?: Record<string, unknown>
  eventId?: string
  timestamp?: Date | string
}

/**
 * How deep `data` and `metadata` may nest. Kejue's payloads nest three levels; 64 leaves room for
 * any producer's metadata while keeping serialization (recursive in V8) far from the stack limit.
 */
export const MAX_NESTING_DEPTH = 64

/**
 * Builds the envelope. Throws a VALIDATION error naming the field when the timestamp is not a
 * real instant (`2025-02-30T…`, `…T25:00:00Z`) or `data`/`metadata` nest deeper than
 * MAX_NESTING_DEPTH: both would otherwise be stored changed or fail later.
 */
export function createEnvelope<T extends EventType | OperationalEventType> (input: EnvelopeInput & { event: T }): Envelope<T> {
  const metadata = input.metadata ?? {}
  const errors = [
    ...nestingErrors(input.data, 'data'),
    ...nestingErrors(metadata, 'metadata'),
  ]
  const timestamp = input.timestamp === undefined ? new Date() : parseTimestamp(input.timestamp)
  if (timestamp === null) errors.push({ path: 'timestamp', message: 'timestamp is not a real date and time (check the month, day, hour and minute)' })
  if (errors.length > 0 || timestamp === null) throw validationError(errors.map((e) => e.message).join('; '), errors)
  return {
    event: input.event,
    event_id: input.eventId ?? newId('evt'),
    workspace_id: input.workspaceId,
    timestamp: timestamp.toISOString(),
    data: input.data,
    metadata,
  }
}

const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):(\d{2}))$/

/**
 * A Date for a real instant, or null. `Date.parse` rolls impossible fields over (`2025-02-30`
 * becomes March 2nd) or fails (`9999-99-99`), so each field is checked against its range first.
 */
export function parseTimestamp (value: Date | string): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value
  const parts = ISO_PARTS.exec(value)
  if (parts === null) return null
  const [, year, month, day, hour, minute, second = '00', zone, zoneHours = '00', zoneMinutes = '00'] = parts
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate()
  const inRange = Number(month) >= 1 && Number(month) <= 12 &&
    Number(day) >= 1 && Number(day) <= daysInMonth &&
    Number(hour) <= 23 && Number(minute) <= 59 && Number(second) <= 59 &&
    (zone === 'Z' || (Number(zoneHours) <= 23 && Number(zoneMinutes) <= 59))
  if (!inRange) return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

interface Frame { value: object, depth: number, key: string, parent: Frame | null }

/**
 * An error when `root` nests deeper than MAX_NESTING_DEPTH, naming where. Iterative, so the
 * check itself cannot overflow; paths are built only for the error, not for every object.
 */
function nestingErrors (root: unknown, rootPath: string): FieldError[] {
  if (typeof root !== 'object' || root === null) return []
  const stack: Frame[] = [{ value: root, depth: 0, key: rootPath, parent: null }]
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.depth >= MAX_NESTING_DEPTH) {
      let path = ''
      for (let at: Frame | null = frame; at !== null; at = at.parent) path = at.key + path
      return [{ path: rootPath, message: `${rootPath} nests deeper than ${MAX_NESTING_DEPTH} levels (at ${path})` }]
    }
    const isArray = Array.isArray(frame.value)
    for (const [key, value] of Object.entries(frame.value)) {
      if (typeof value !== 'object' || value === null) continue
      stack.push({ value, depth: frame.depth + 1, key: isArray ? `[${key}]` : `.${key}`, parent: frame })
    }
  }
  return []
}

/**
 * The bytes that are signed and sent. Serialized once when the event is accepted and stored as
 * is, so every webhook and every retry gets exactly these bytes (docs/wire-format.md).
 */
export function serializeEnvelope (envelope: Envelope<string>): string {
  return JSON.stringify(envelope)
}
