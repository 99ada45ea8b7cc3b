import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { HttpUrl, Id, Nullable, OpenObject, PersonaIdField, StringEnum, Timestamp } from './common.js'

/**
 * The `data` of the three call events (spec: "Call Events"). Fields the spec's examples show are
 * named exactly as there. What is required is what a receiver cannot do without: which call, which
 * contact, what happened and when. Everything descriptive (transcript, names, tool results) is
 * optional, because it does not exist for every call: a `no_answer` call has no transcript.
 */

/** spec: call.ended status table. */
export const CALL_STATUSES = ['completed', 'no_answer', 'busy', 'failed', 'voicemail'] as const
export type CallStatus = (typeof CALL_STATUSES)[number]

export const CALL_DIRECTIONS = ['inbound', 'outbound'] as const

const CallStatusSchema = StringEnum([...CALL_STATUSES], { description: 'How the call ended (spec: call.ended status table).' })

const CampaignIdField = Type.Optional(Nullable(Id('The campaign that placed the call; null for a call made outside a campaign.')))

export const CallContactSchema = OpenObject({
  id: Id('The contact\'s id; the same as `contact_id`.'),
  name: Type.Optional(Nullable(Type.String({ description: 'The contact\'s name.' }))),
  phone: Type.Optional(Nullable(Type.String({ description: 'The number called or calling, E.164 (`+14155551234`).' }))),
}, { description: 'The contact, as known when the call started.' })

export const CallStartedDataSchema = OpenObject({
  job_id: Id('The call (job) id; every event of one call carries it.'),
  conversation_id: Type.Optional(Id('The conversation the call belongs to.')),
  contact_id: Id('The contact called (or calling).'),
  persona_id: PersonaIdField,
  campaign_id: CampaignIdField,
  direction: Type.Optional(StringEnum([...CALL_DIRECTIONS], { description: '`outbound` (Kejue called) or `inbound`.' })),
  channel: Type.Optional(Type.String({ minLength: 1, description: 'The channel, `voice` for phone calls.' })),
  job_type: Type.Optional(Type.String({ minLength: 1, description: 'The kind of job, e.g. `outbound_call`.' })),
  attempt_number: Type.Optional(Type.Integer({ minimum: 1, description: 'Which attempt at this contact this call is, from 1.' })),
  started_at: Timestamp('When the call was answered and connected.'),
  contact: Type.Optional(CallContactSchema),
}, { description: 'call.started: a call has been answered and connected.' })

export const CallRetrySchema = OpenObject({
  will_retry: Type.Boolean({ description: 'Whether Kejue will call the contact again.' }),
  next_retry_at: Type.Optional(Nullable(Timestamp('When the next attempt is scheduled; null when none is.'))),
  attempt_number: Type.Integer({ minimum: 1, description: 'This attempt\'s number, from 1.' }),
  max_attempts: Type.Integer({ minimum: 1, description: 'How many attempts the contact gets in all.' }),
}, { description: 'The contact\'s retry state after this call.' })

export const CallEndedDataSchema = OpenObject({
  job_id: Id('The call (job) id, as in call.started.'),
  conversation_id: Type.Optional(Id('The conversation the call belongs to.')),
  contact_id: Id('The contact called (or calling).'),
  persona_id: PersonaIdField,
  campaign_id: CampaignIdField,
  status: CallStatusSchema,
  ended_reason: Type.Optional(Nullable(Type.String({ minLength: 1, description: 'Why the call ended, e.g. `agent_hangup`, `customer_hangup`.' }))),
  started_at: Type.Optional(Nullable(Timestamp('When the call connected; null when it never did.'))),
  ended_at: Type.Optional(Timestamp('When the call ended.')),
  duration_seconds: Type.Number({ minimum: 0, description: 'Talk time in seconds; 0 for a call that never connected.' }),
  transcript: Type.Optional(Nullable(Type.String({ description: 'The conversation as text; absent or null when there was none.' }))),
  recording_url: Type.Optional(Nullable(HttpUrl('Where the recording can be fetched; absent or null when there is none.'))),
  retry: Type.Optional(CallRetrySchema),
}, { description: 'call.ended: a call has ended, before post-call analysis.' })

export const CallAnalysisSchema = OpenObject({
  id: Id('The call (job) id; the same as `job_id` in call.started and call.ended.'),
  status: CallStatusSchema,
  summary: Type.Optional(Nullable(Type.String({ description: 'A short summary of the conversation.' }))),
  outcome_id: Type.Optional(Nullable(Type.String({ minLength: 1, description: 'The outcome the analysis chose, from the persona\'s outcome list (e.g. `interested`).' }))),
  score: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 100, description: 'The call\'s score, 0–100.' }))),
  structured_data: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'Fields extracted from the conversation, as configured on the persona.' }))),
}, { description: 'The analysed call.' })

export const AnalyzedContactSchema = OpenObject({
  id: Id('The contact\'s id.'),
  name: Type.Optional(Nullable(Type.String({ description: 'The contact\'s name.' }))),
  status: Type.Optional(Nullable(Type.String({ minLength: 1, description: 'The contact\'s status after the analysis (e.g. `interested`).' }))),
}, { description: 'The contact, updated by the analysis.' })

/** The spec prints these lists empty and does not describe their items, so any object is accepted. */
const ToolResultList = (description: string) => Type.Array(Type.Record(Type.String(), Type.Unknown()), { description })

export const CallAnalyzedDataSchema = OpenObject({
  call: CallAnalysisSchema,
  contact: AnalyzedContactSchema,
  persona_id: PersonaIdField,
  campaign_id: CampaignIdField,
  in_call_tools: Type.Optional(ToolResultList('Tools the agent ran during the call, with their results.')),
  post_call_actions: Type.Optional(ToolResultList('Actions run after the call, with their results.')),
}, { description: 'call.analyzed: post-call analysis is complete.' })

export type CallContact = Static<typeof CallContactSchema>
export type CallRetry = Static<typeof CallRetrySchema>
export type CallStartedData = Static<typeof CallStartedDataSchema>
export type CallEndedData = Static<typeof CallEndedDataSchema>
export type CallAnalyzedData = Static<typeof CallAnalyzedDataSchema>
