/**
 * The events a receiver gets, as plain TypeScript types. The service defines them once as JSON
 * schemas (src/events/schemas, docs/events.md); these are written out by hand so the receiver's
 * .d.ts files import nothing, and test/receiver/event-types.test.ts fails the moment the two
 * disagree. Every object may gain fields later: read what you need and ignore the rest.
 */

/** How a call ended (spec: call.ended status table). */
export type CallStatus = 'completed' | 'no_answer' | 'busy' | 'failed' | 'voicemail'

/** Why a campaign ended (spec: campaign.ended "End Reason" table). */
export type CampaignEndReason = 'completed' | 'cancelled' | 'failed'

export interface CallContact {
  id: string
  name?: string | null
  /** E.164, e.g. `+14155551234`. */
  phone?: string | null
}

export interface CallStartedData {
  job_id: string
  conversation_id?: string
  contact_id: string
  persona_id?: string | null
  campaign_id?: string | null
  direction?: 'inbound' | 'outbound'
  channel?: string
  job_type?: string
  attempt_number?: number
  /** ISO-8601. */
  started_at: string
  contact?: CallContact
}

export interface CallRetry {
  will_retry: boolean
  next_retry_at?: string | null
  attempt_number: number
  max_attempts: number
}

export interface CallEndedData {
  job_id: string
  conversation_id?: string
  contact_id: string
  persona_id?: string | null
  campaign_id?: string | null
  status: CallStatus
  ended_reason?: string | null
  started_at?: string | null
  ended_at?: string
  duration_seconds: number
  transcript?: string | null
  recording_url?: string | null
  retry?: CallRetry
}

export interface CallAnalysis {
  /** The call (job) id. */
  id: string
  status: CallStatus
  summary?: string | null
  outcome_id?: string | null
  /** 0–100. */
  score?: number | null
  structured_data?: Record<string, unknown> | null
}

export interface AnalyzedContact {
  id: string
  name?: string | null
  status?: string | null
}

export interface CallAnalyzedData {
  call: CallAnalysis
  contact: AnalyzedContact
  persona_id?: string | null
  campaign_id?: string | null
  in_call_tools?: Array<Record<string, unknown>>
  post_call_actions?: Array<Record<string, unknown>>
}

export interface CampaignStats {
  total_contacts: number
  completed: number
  no_answer: number
  failed: number
  voicemail: number
}

export interface CampaignPerformance {
  connect_rate_percent: number
  completion_rate_percent: number
  average_call_duration_seconds: number
}

export interface CampaignError {
  code: string
  message: string
}

// campaign.started/paused/resumed/failed: Kejue's guide prints no payload for these, so only
// campaign_id is guaranteed; the other fields are ours and optional, and `status` may hold values
// not listed in docs/events.md (usually running, paused, running, failed).
export interface CampaignStartedData {
  campaign_id: string
  campaign_name?: string
  persona_id?: string | null
  status?: string
  started_at?: string
  stats?: CampaignStats
}

export interface CampaignEndedData {
  campaign_id: string
  campaign_name: string
  persona_id?: string | null
  status?: CampaignEndReason
  end_reason: CampaignEndReason
  started_at?: string
  ended_at?: string
  stats: CampaignStats
  performance: CampaignPerformance
  error?: CampaignError | null
}

export interface CampaignPausedData {
  campaign_id: string
  campaign_name?: string
  persona_id?: string | null
  status?: string
  pause_reason?: string | null
  started_at?: string
  paused_at?: string
  stats?: CampaignStats
}

export interface CampaignResumedData {
  campaign_id: string
  campaign_name?: string
  persona_id?: string | null
  status?: string
  started_at?: string
  paused_at?: string | null
  resumed_at?: string
  stats?: CampaignStats
}

export interface CampaignFailedData {
  campaign_id: string
  campaign_name?: string
  persona_id?: string | null
  status?: string
  failure_reason?: string | null
  error?: CampaignError
  started_at?: string
  failed_at?: string
  stats?: CampaignStats
}

/** Event type → the type of its `data`. */
export interface KejueEventDataMap {
  'call.started': CallStartedData
  'call.ended': CallEndedData
  'call.analyzed': CallAnalyzedData
  'campaign.started': CampaignStartedData
  'campaign.ended': CampaignEndedData
  'campaign.paused': CampaignPausedData
  'campaign.resumed': CampaignResumedData
  'campaign.failed': CampaignFailedData
}

export type KejueEventType = keyof KejueEventDataMap

/**
 * The body of every delivery (docs/receiving.md, "What arrives"). The service's `Envelope`
 * (src/events/envelope.ts) is this type, so the two cannot drift.
 */
export interface KejueEnvelope<T extends string = KejueEventType, D = Record<string, unknown>> {
  event: T
  event_id: string
  workspace_id: string
  /** The event's time, ISO-8601 UTC. */
  timestamp: string
  data: D
  metadata: Record<string, unknown>
}

/**
 * Any Kejue event. Narrow on `event` to get the type of `data`:
 * @example
 * if (event.event === 'call.ended') console.log(event.data.status)
 */
export type KejueEvent = { [K in KejueEventType]: KejueEnvelope<K, KejueEventDataMap[K]> }[KejueEventType]

/** The event of one type: `KejueEventOf<'call.ended'>`. */
export type KejueEventOf<K extends KejueEventType> = KejueEnvelope<K, KejueEventDataMap[K]>
