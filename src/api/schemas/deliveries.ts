import { Type } from '@sinclair/typebox'
import { CursorQuery, DeliveryEventSchema, IdString, IsoDate, LimitQuery, Nullable } from './common.js'

export const DeliveryStatusSchema = Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('parked')], {
  description: 'pending while attempts remain, then succeeded or failed; parked while its webhook is disabled',
})

export const AttemptObject = Type.Object({
  attempt: Type.Integer({ description: '1, 2, … as sent in X-Kejue-Attempt' }),
  started_at: IsoDate,
  duration_ms: Type.Integer(),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  response_excerpt: Nullable(Type.String({ description: 'The first bytes of the response body' })),
  request_headers: Nullable(Type.Record(Type.String(), Type.String(), {
    description: 'The headers this attempt was sent with, secrets masked (rebuilt from the webhook\'s current signing settings); null when the webhook was deleted',
  })),
})

export const DeliveryObject = Type.Object({
  id: Type.String({ description: 'The X-Kejue-Delivery-Id' }),
  event_id: Type.String(),
  event: Type.String(),
  webhook_id: Nullable(Type.String({ description: 'null for an inline (per-call) webhook' })),
  url: Type.String(),
  status: DeliveryStatusSchema,
  attempts: Type.Array(AttemptObject),
  attempt_count: Type.Integer(),
  max_attempts: Type.Integer({ description: '1 + max_retries of the webhook when the event was accepted' }),
  next_attempt_at: Nullable(IsoDate),
  last_error: Nullable(Type.String()),
  created_at: IsoDate,
  updated_at: IsoDate,
})

export const DeliveryPage = Type.Object({
  data: Type.Array(DeliveryObject),
  next_cursor: Nullable(Type.String({ description: 'Pass as ?cursor= for the next page; null on the last page' })),
})

const queryTime = (description: string) => Type.String({ minLength: 1, maxLength: 40, description })

export const DeliveryListQuery = Type.Object({
  status: Type.Optional(DeliveryStatusSchema),
  event: Type.Optional(DeliveryEventSchema),
  webhook_id: Type.Optional(IdString),
  event_id: Type.Optional(IdString),
  job_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The call: data.job_id (data.call.id for call.analyzed)' })),
  contact_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'data.contact_id or data.contact.id' })),
  since: Type.Optional(queryTime('created_at ≥ since (inclusive), ISO-8601, e.g. 2025-01-15T10:30:00Z')),
  until: Type.Optional(queryTime('created_at < until (exclusive), ISO-8601, e.g. 2025-01-15T10:30:00Z')),
  cursor: Type.Optional(CursorQuery),
  limit: Type.Optional(LimitQuery),
}, { additionalProperties: false })

export const WebhookDeliveryListQuery = Type.Object({
  status: Type.Optional(DeliveryStatusSchema),
  event: Type.Optional(DeliveryEventSchema),
  cursor: Type.Optional(CursorQuery),
  limit: Type.Optional(LimitQuery),
}, { additionalProperties: false })
