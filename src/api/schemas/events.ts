import { Type } from '@sinclair/typebox'
import { EventIdSchema, EventTypeSchema, IsoDate, isoTimeInput } from './common.js'
import { DeliveryObject } from './deliveries.js'
import { OPTIONAL_BODY } from '../validation.js'

const JsonObject = Type.Object({}, { additionalProperties: true })

export const PublishEventBody = Type.Object({
  event: EventTypeSchema,
  data: Type.Object({}, { additionalProperties: true, description: 'The event\'s data, checked against the event catalog' }),
  metadata: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Passed through to receivers; {} when omitted' })),
  event_id: Type.Optional(EventIdSchema),
  timestamp: Type.Optional(isoTimeInput('The event\'s time; now when omitted')),
}, { additionalProperties: false })

export const PublishEventResponse = Type.Object({
  event_id: Type.String(),
  deliveries: Type.Integer({ description: 'How many deliveries the event created (the same number again for a repeated event_id)' }),
})

export const EventParams = Type.Object({ event_id: Type.String({ minLength: 1, maxLength: 200 }) })

export const EnvelopeObject = Type.Object({
  event: Type.String(),
  event_id: Type.String(),
  workspace_id: Type.String(),
  timestamp: IsoDate,
  data: JsonObject,
  metadata: JsonObject,
})

export const EventObject = Type.Object({
  event_id: Type.String(),
  event: Type.String(),
  received_at: IsoDate,
  envelope: EnvelopeObject,
  deliveries: Type.Array(DeliveryObject),
})

export const TestSendBody = Type.Object({
  event: Type.Optional(EventTypeSchema),
}, { additionalProperties: false, [OPTIONAL_BODY]: true, description: 'Optional; {"event": "call.ended"} by default' })
