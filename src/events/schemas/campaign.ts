import { Type } from '@sinclair/typebox'
import type { Static, TOptional, TString } from '@sinclair/typebox'
import { Count, Id, Nullable, OpenObject, Percent, PersonaIdField, StringEnum, Timestamp } from './common.js'

/**
 * The `data` of the five campaign events. campaign.ended follows the spec's example exactly; the
 * spec prints no payload for the other four, so they are built from the same parts: the campaign's
 * id and name, its `status` after the event, the event's own timestamp (`started_at`, `paused_at`,
 * `resumed_at`, `failed_at`), and the same `stats` shape where progress so far is worth telling.
 *
 * Because the spec fixes nothing for those four, a producer may send them with only `campaign_id`
 * and fields of its own: every designed field is optional there, and `status` is any string (the
 * usual value is documented, not enforced). A designed field that is present must have its
 * documented JSON type, so receivers can rely on the types (docs/events.md).
 */

/** spec: campaign.ended "End Reason" table. */
export const CAMPAIGN_END_REASONS = ['completed', 'cancelled', 'failed'] as const
export type CampaignEndReason = (typeof CAMPAIGN_END_REASONS)[number]

export const CampaignStatsSchema = OpenObject({
  total_contacts: Count('Contacts in the campaign.'),
  completed: Count('Contacts whose call connected and a conversation took place.'),
  no_answer: Count('Contacts who did not answer.'),
  failed: Count('Contacts whose call failed for a technical reason.'),
  voicemail: Count('Contacts whose call went to voicemail.'),
}, { description: 'Per-outcome contact counts (spec: campaign.ended `stats`). Further counters may appear.' })

export const CampaignPerformanceSchema = OpenObject({
  connect_rate_percent: Percent('completed ÷ total_contacts × 100, one decimal. See docs/events.md.'),
  completion_rate_percent: Percent('(completed + failed) ÷ total_contacts × 100, one decimal. See docs/events.md.'),
  average_call_duration_seconds: Type.Number({ minimum: 0, description: 'Mean talk time of the campaign\'s connected calls, whole seconds.' }),
}, { description: 'Rates derived from `stats` (spec: campaign.ended `performance`).' })

export const CampaignErrorSchema = OpenObject({
  code: Type.String({ minLength: 1, description: 'A stable, machine-readable error code, UPPER_SNAKE (e.g. `TELEPHONY_PROVIDER_UNAVAILABLE`).' }),
  message: Type.String({ minLength: 1, description: 'What went wrong, for people.' }),
}, { description: 'The error that stopped the campaign.' })

const CampaignIdField = Id('The campaign.')
const CampaignNameField = Type.String({ minLength: 1, description: 'The campaign\'s name.' })
const StartedAtOptional = Type.Optional(Timestamp('When the campaign started processing.'))
const CampaignNameOptional = Type.Optional(CampaignNameField)

/** `status` of the four events the spec prints no payload for: usually `usual`, any string accepted. */
function OpenStatus (usual: string): TOptional<TString> {
  return Type.Optional(Type.String({ minLength: 1, description: `The campaign's status after the event, usually \`${usual}\`; other values may appear.` }))
}

export const CampaignStartedDataSchema = OpenObject({
  campaign_id: CampaignIdField,
  campaign_name: CampaignNameOptional,
  persona_id: PersonaIdField,
  status: OpenStatus('running'),
  started_at: Type.Optional(Timestamp('When the campaign started processing.')),
  stats: Type.Optional(CampaignStatsSchema),
}, { description: 'campaign.started: a campaign has started processing.' })

export const CampaignEndedDataSchema = OpenObject({
  campaign_id: CampaignIdField,
  campaign_name: CampaignNameField,
  persona_id: PersonaIdField,
  status: Type.Optional(StringEnum([...CAMPAIGN_END_REASONS], { description: 'The campaign\'s final status; equals `end_reason`.' })),
  end_reason: StringEnum([...CAMPAIGN_END_REASONS], { description: 'Why the campaign ended (spec: End Reason table).' }),
  started_at: StartedAtOptional,
  ended_at: Type.Optional(Timestamp('When the campaign ended.')),
  stats: CampaignStatsSchema,
  performance: CampaignPerformanceSchema,
  error: Type.Optional(Nullable(CampaignErrorSchema)),
}, { description: 'campaign.ended: a campaign has completed, been cancelled, or failed.' })

export const CampaignPausedDataSchema = OpenObject({
  campaign_id: CampaignIdField,
  campaign_name: CampaignNameOptional,
  persona_id: PersonaIdField,
  status: OpenStatus('paused'),
  pause_reason: Type.Optional(Nullable(Type.String({ minLength: 1, description: 'Why it paused, e.g. `manual`, `outside_calling_hours`, `insufficient_credits`.' }))),
  started_at: StartedAtOptional,
  paused_at: Type.Optional(Timestamp('When the campaign was paused.')),
  stats: Type.Optional(CampaignStatsSchema),
}, { description: 'campaign.paused: a campaign has been paused.' })

export const CampaignResumedDataSchema = OpenObject({
  campaign_id: CampaignIdField,
  campaign_name: CampaignNameOptional,
  persona_id: PersonaIdField,
  status: OpenStatus('running'),
  started_at: StartedAtOptional,
  paused_at: Type.Optional(Nullable(Timestamp('When the pause that ends now began.'))),
  resumed_at: Type.Optional(Timestamp('When the campaign was resumed.')),
  stats: Type.Optional(CampaignStatsSchema),
}, { description: 'campaign.resumed: a paused campaign has been resumed.' })

export const CampaignFailedDataSchema = OpenObject({
  campaign_id: CampaignIdField,
  campaign_name: CampaignNameOptional,
  persona_id: PersonaIdField,
  status: OpenStatus('failed'),
  failure_reason: Type.Optional(Nullable(Type.String({ minLength: 1, description: 'The kind of failure, e.g. `infrastructure`, `telephony_provider`, `insufficient_credits`.' }))),
  error: Type.Optional(CampaignErrorSchema),
  started_at: StartedAtOptional,
  failed_at: Type.Optional(Timestamp('When the campaign failed.')),
  stats: Type.Optional(CampaignStatsSchema),
}, { description: 'campaign.failed: a campaign has failed due to an error.' })

export type CampaignStats = Static<typeof CampaignStatsSchema>
export type CampaignPerformance = Static<typeof CampaignPerformanceSchema>
export type CampaignError = Static<typeof CampaignErrorSchema>
export type CampaignStartedData = Static<typeof CampaignStartedDataSchema>
export type CampaignEndedData = Static<typeof CampaignEndedDataSchema>
export type CampaignPausedData = Static<typeof CampaignPausedDataSchema>
export type CampaignResumedData = Static<typeof CampaignResumedDataSchema>
export type CampaignFailedData = Static<typeof CampaignFailedDataSchema>
