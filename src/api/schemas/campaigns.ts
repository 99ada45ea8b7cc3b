import { Type } from '@sinclair/typebox'

const Identifier = Type.String({ minLength: 1, maxLength: 200 })

/** One contact of a campaign; name and phone are made up when absent. */
export const CampaignContactInput = Type.Object({
  id: Type.Optional(Identifier),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  phone: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
}, { additionalProperties: true })

/** The simulator's knobs for one campaign (sandbox only). */
export const CampaignSimulationInput = Type.Object({
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295, description: 'Fixes the outcomes of this campaign\'s calls' })),
  fail_after_calls: Type.Optional(Type.Integer({ minimum: 1, description: 'Rehearse campaign.failed: fail after this many calls ended' })),
}, { additionalProperties: false })

export const CreateCampaignBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  persona_id: Identifier,
  contacts: Type.Optional(Type.Array(CampaignContactInput, { minItems: 1, maxItems: 10_000 })),
  contact_ids: Type.Optional(Type.Array(Identifier, { minItems: 1, maxItems: 10_000 })),
  auto_start: Type.Optional(Type.Boolean({ default: false, description: 'Start at once (campaign.started)' })),
  max_concurrent_calls: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, description: 'Calls on the line at once' })),
  simulation: Type.Optional(CampaignSimulationInput),
}, { additionalProperties: true })

const Counts = Type.Record(Type.String(), Type.Number())

export const CampaignResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  persona_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: 'pending, running, paused, completed, cancelled or failed' }),
  end_reason: Type.Union([Type.String(), Type.Null()]),
  ended: Type.Boolean({ description: 'True once campaign.ended was emitted' }),
  stats: Counts,
  performance: Counts,
  calls_in_flight: Type.Integer(),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  created_at: Type.String(),
  started_at: Type.Union([Type.String(), Type.Null()]),
  paused_at: Type.Union([Type.String(), Type.Null()]),
  ended_at: Type.Union([Type.String(), Type.Null()]),
})
