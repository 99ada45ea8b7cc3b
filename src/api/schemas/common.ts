import { DEFAULTS } from '../../config/defaults.js'
import { Type } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import { EVENT_TYPES, OPERATIONAL_EVENT_TYPES } from '../../events/event-types.js'
import { PATTERN_MESSAGE } from '../validation.js'

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const IsoDate = Type.String({ description: 'ISO-8601 UTC time' })

/** An ISO-8601 time with a zone, as input. */
export function isoTimeInput (description: string): ReturnType<typeof Type.String> {
  return Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$',
    [PATTERN_MESSAGE]: 'an ISO-8601 time with a zone, e.g. 2025-01-15T10:30:00Z',
    description,
  })
}

/** Ids in paths and filters: our ids are `prefix_ULID`; anything else simply finds nothing. */
export const IdString = Type.String({ minLength: 1, maxLength: 200 })

export const EventTypeSchema = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)), { description: 'An event type of the catalog' })

export const EventFilterSchema = Type.Union([...EVENT_TYPES.map((t) => Type.Literal(t)), ...OPERATIONAL_EVENT_TYPES.map((t) => Type.Literal(t)), Type.Literal('*')], {
  description: 'An event type, or "*" for every type; the operational webhook.disabled only by name ("*" does not select it)',
})

/** A type deliveries can have: the catalog's and the operational webhook.disabled. */
export const DeliveryEventSchema = Type.Union([...EVENT_TYPES.map((t) => Type.Literal(t)), ...OPERATIONAL_EVENT_TYPES.map((t) => Type.Literal(t))], {
  description: 'An event type of the catalog, or webhook.disabled',
})

export const EventIdSchema = Type.String({
  pattern: '^evt_[A-Za-z0-9_-]{1,100}$',
  [PATTERN_MESSAGE]: 'an event id like evt_… (letters, digits, "_" and "-", at most 104 characters)',
})

export const ErrorResponse = Type.Object({
  error: Type.String({ description: 'What went wrong and what to fix' }),
  code: Type.String({ description: 'UPPER_SNAKE error code, see docs/errors.md' }),
  details: Type.Record(Type.String(), Type.Unknown(), {
    description: 'For VALIDATION and DESTINATION_NOT_ALLOWED: `fields: [{path, message}]`',
  }),
})

/** Error responses every /api/v1 route may give, for the OpenAPI document. */
export function errorResponses (...statuses: number[]): Record<number, typeof ErrorResponse> {
  const out: Record<number, typeof ErrorResponse> = {}
  // 503 STORE_UNAVAILABLE can answer any route that reads or writes the store.
  for (const status of [401, 503, ...statuses]) out[status] = ErrorResponse
  return out
}

export const IdParams = Type.Object({ id: IdString })

export const LimitQuery = Type.Integer({ minimum: 1, maximum: DEFAULTS.api.pageSizeMax, default: DEFAULTS.api.pageSize, description: 'Page size' })
export const CursorQuery = Type.String({ minLength: 1, maxLength: 500, description: 'next_cursor of the previous page' })
