import { Type } from '@sinclair/typebox'
import { EventsSchema, SecretSchema, SigningMethodSchema, UrlSchema } from './webhooks.js'

/**
 * One of `config.webhooks[]`: the spec's four fields only (contract §6), checked like a webhook
 * create; delivery settings are the defaults (spec "Delivery & Retries").
 */
export const InlineWebhookInput = Type.Object({
  url: UrlSchema,
  events: EventsSchema,
  signing_method: Type.Optional(SigningMethodSchema),
  secret: Type.Optional(SecretSchema),
}, { additionalProperties: false })

const Identifier = Type.String({ minLength: 1, maxLength: 200 })

/** Kejue's create-call body; fields this service does not use are accepted and ignored. */
export const CreatePersonaCallBody = Type.Object({
  persona_id: Identifier,
  contact_id: Type.Optional(Identifier),
  contact: Type.Optional(Type.Object({
    id: Type.Optional(Identifier),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    phone: Type.String({ minLength: 1, maxLength: 50 }),
  }, { additionalProperties: true })),
  config: Type.Optional(Type.Object({
    webhooks: Type.Optional(Type.Array(InlineWebhookInput, { maxItems: 10 })),
  }, { additionalProperties: true })),
}, { additionalProperties: true })

export const PersonaCallResponse = Type.Object({
  job_id: Type.String(),
  status: Type.Literal('queued'),
  persona_id: Type.String(),
  contact_id: Type.String(),
  webhooks: Type.Integer({ description: 'How many inline webhooks the call registered' }),
})
