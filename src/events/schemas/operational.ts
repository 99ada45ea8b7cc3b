import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'

/**
 * webhook.disabled's data (docs/events.md): the operational event sent when a webhook is disabled
 * for "gone" or "failing". Producers cannot post it, so it is not in the producer catalog.
 */
export const WebhookDisabledDataSchema = Type.Object({
  webhook_id: Type.String(),
  url: Type.String(),
  reason: Type.Union([Type.Literal('gone'), Type.Literal('failing')]),
  disabled_at: Type.String({ description: 'ISO-8601 UTC time' }),
  consecutive_failures: Type.Integer({ description: 'Failed deliveries in a row for "failing", failed attempts for "gone"' }),
  last_error: Type.Union([Type.String(), Type.Null()]),
}, { additionalProperties: true })

export type WebhookDisabledData = Static<typeof WebhookDisabledDataSchema>
