import type { EventDataMap } from './catalog.js'
import type { EventType } from './event-types.js'
import { computeCampaignPerformance } from './performance.js'
import type { CampaignStats } from './schemas/campaign.js'

/**
 * Realistic `data` for each event type, for `POST /webhooks/{id}/test` and
 * `kejue-webhooks trigger`: a receiver under development gets a payload shaped like the real one.
 * The ids are the spec's example ids (`job_123`, `ct_789`, `per_abc`, `camp_abc`), so a sample
 * reads like the docs; times are relative to `now`.
 */

/** Deep overrides: objects merge key by key, anything else (arrays, null, scalars) replaces. */
export type SampleOverrides = Record<string, unknown>

/**
 * A valid `data` payload for `type`, with `overrides` merged in (overrides are not validated).
 * @example
 * samplePayload('call.ended', { status: 'no_answer', retry: { will_retry: true } })
 */
export function samplePayload<K extends EventType> (
  type: K,
  overrides: SampleOverrides = {},
  now: Date = new Date(),
): EventDataMap[K] {
  const base = SAMPLES[type](now) as Record<string, unknown>
  return deepMerge(base, overrides) as EventDataMap[K]
}

type SampleBuilders = { [K in EventType]: (now: Date) => EventDataMap[K] }

const SPEC_STATS: CampaignStats = { total_contacts: 500, completed: 420, no_answer: 50, failed: 10, voicemail: 20 }
const CALL_SECONDS = 295

const SAMPLES: SampleBuilders = {
  'call.started': (now) => ({
    job_id: 'job_123',
    conversation_id: 'conv_456',
    contact_id: 'ct_789',
    persona_id: 'per_abc',
    campaign_id: null,
    direction: 'outbound',
    channel: 'voice',
    job_type: 'outbound_call',
    attempt_number: 1,
    started_at: iso(now),
    contact: { id: 'ct_789', name: 'John Doe', phone: '+14155551234' },
  }),
  'call.ended': (now) => ({
    job_id: 'job_123',
    conversation_id: 'conv_456',
    contact_id: 'ct_789',
    persona_id: 'per_abc',
    campaign_id: null,
    status: 'completed',
    ended_reason: 'agent_hangup',
    started_at: iso(now, -CALL_SECONDS),
    ended_at: iso(now),
    duration_seconds: CALL_SECONDS,
    transcript: 'Agent: Hello, this is Sara from Kejue. Is this John?\nCustomer: Yes, speaking.\nAgent: I am calling about the demo you asked for...',
    recording_url: 'https://recordings.kejue.co/job_123.mp3',
    retry: { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 },
  }),
  'call.analyzed': () => ({
    call: {
      id: 'job_123',
      status: 'completed',
      summary: 'Discussed pricing plans and scheduled a demo for next Tuesday.',
      outcome_id: 'interested',
      score: 85,
      structured_data: { interested_product: 'Enterprise Plan', budget_range: '$500-1000/mo' },
    },
    contact: { id: 'ct_789', name: 'John Doe', status: 'interested' },
    persona_id: 'per_abc',
    campaign_id: null,
    in_call_tools: [],
    post_call_actions: [],
  }),
  'campaign.started': (now) => ({
    campaign_id: 'camp_abc',
    campaign_name: 'Q1 Outreach',
    persona_id: 'per_abc',
    status: 'running',
    started_at: iso(now),
    stats: { total_contacts: 500, completed: 0, no_answer: 0, failed: 0, voicemail: 0 },
  }),
  'campaign.ended': (now) => ({
    campaign_id: 'camp_abc',
    campaign_name: 'Q1 Outreach',
    persona_id: 'per_abc',
    status: 'completed',
    end_reason: 'completed',
    started_at: iso(now, -6 * 3600),
    ended_at: iso(now),
    stats: { ...SPEC_STATS },
    performance: computeCampaignPerformance(SPEC_STATS, { totalSeconds: 420 * 120, calls: 420 }),
  }),
  'campaign.paused': (now) => ({
    campaign_id: 'camp_abc',
    campaign_name: 'Q1 Outreach',
    persona_id: 'per_abc',
    status: 'paused',
    pause_reason: 'manual',
    started_at: iso(now, -2 * 3600),
    paused_at: iso(now),
    stats: { total_contacts: 500, completed: 140, no_answer: 17, failed: 3, voicemail: 7 },
  }),
  'campaign.resumed': (now) => ({
    campaign_id: 'camp_abc',
    campaign_name: 'Q1 Outreach',
    persona_id: 'per_abc',
    status: 'running',
    started_at: iso(now, -3 * 3600),
    paused_at: iso(now, -3600),
    resumed_at: iso(now),
    stats: { total_contacts: 500, completed: 140, no_answer: 17, failed: 3, voicemail: 7 },
  }),
  'campaign.failed': (now) => ({
    campaign_id: 'camp_abc',
    campaign_name: 'Q1 Outreach',
    persona_id: 'per_abc',
    status: 'failed',
    failure_reason: 'telephony_provider',
    error: { code: 'TELEPHONY_PROVIDER_UNAVAILABLE', message: 'The telephony provider rejected new calls for 15 minutes.' },
    started_at: iso(now, -2 * 3600),
    failed_at: iso(now),
    stats: { total_contacts: 500, completed: 211, no_answer: 25, failed: 38, voicemail: 9 },
  }),
}

/** ISO-8601 UTC to the second, as the spec prints times (`2025-01-15T10:30:00Z`). */
function iso (now: Date, offsetSeconds = 0): string {
  return new Date(now.getTime() + offsetSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function deepMerge (base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(overrides)) {
    const current = Object.hasOwn(out, key) ? out[key] : undefined
    const merged = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value
    // defineProperty, not assignment: an override named `__proto__` (from parsed JSON) must stay a
    // plain field instead of replacing the object's prototype.
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true })
  }
  return out
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
