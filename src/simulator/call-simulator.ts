/**
 * One simulated phone call, as a state machine driven by the scheduler:
 *
 *   dialling ──ring──▶ answered (completed) ── talk ──▶ ended ── analysis ──▶ analyzed
 *       │                                                 ▲
 *       ├──ring──▶ voicemail ── message ──────────────────┤
 *       └──ring──▶ no_answer | busy | failed ─────────────┘
 *
 * Events, in order, each emitted only after the previous one was accepted:
 * - call.started only when a person answered (status `completed`; spec: "answered and connected");
 * - call.ended for every attempt, with `retry`: no_answer and busy are dialled again while
 *   attempts remain (brief: max_attempts 3), `next_retry_at` saying when;
 * - call.analyzed for completed calls. Receivers see it after call.ended, as the spec orders them
 *   ("fires before post-call analysis"): webhooks with per-call ordering queue it behind
 *   call.ended themselves (docs/delivery.md), and for the others (inline webhooks, subscriptions
 *   without ordering) it is emitted only after call.ended's deliveries to them settled.
 *
 * Re-dials keep the job id: every event of one call, whatever the attempt, belongs to the same
 * job, so inline webhooks registered for it (docs/wire-format.md#routing) get all of them.
 */
import { DEFAULTS } from '../config/defaults.js'
import type { EventType } from '../events/event-types.js'
import { newId } from '../util/ids.js'
import { DEFAULT_OUTCOME_WEIGHTS } from '../config/outcome-weights.js'
import type { CallOutcome, OutcomeWeights } from '../config/outcome-weights.js'
import type { Analysis } from './outcomes.js'
import { RETRYABLE_OUTCOMES, analyzeCall, drawOutcome, shapeCall, transcriptFor } from './outcomes.js'
import { randomFor } from './random.js'
import type { Scheduler } from './scheduler.js'

/** What the simulator learns of an emitted event. */
export interface EmitReceipt {
  /** Resolves once the event's deliveries settled (bounded by the emitter). */
  settled?: () => Promise<void>
  /**
   * Resolves once its deliveries to webhooks WITHOUT per-call ordering settled: those are the
   * ones a later event of the call could overtake (ordered webhooks keep the order themselves).
   */
  unorderedSettled?: () => Promise<void>
}

/** Emits one event; the service's implementation goes through acceptEvent. */
export type EmitFn = (type: EventType, data: Record<string, unknown>) => Promise<EmitReceipt>

export interface SimContact {
  id: string
  name: string | null
  phone: string | null
}

export interface CallRequest {
  jobId: string
  contact: SimContact
  personaId: string | null
  campaignId: string | null
  /** Names this call's random streams, so a seed reproduces the same outcomes in any timing. */
  streamKey: string
}

export interface CallSimulatorOptions {
  seed: number
  outcomeWeights?: OutcomeWeights
  /** @defaultValue 3 (brief: no_answer and busy re-dialled up to 3 attempts) */
  maxAttempts?: number
  /** Simulated wait before a re-dial. @defaultValue 600_000 (10 min) */
  retryDelayMs?: number
  /** @defaultValue 'Sara' (the spec's example agent) */
  agentName?: string
  /** @defaultValue 'https://recordings.kejue.co' */
  recordingBaseUrl?: string
}

export interface ResolvedCallSimulatorOptions {
  seed: number
  outcomeWeights: OutcomeWeights
  maxAttempts: number
  retryDelayMs: number
  agentName: string
  recordingBaseUrl: string
}

/** What one attempt did, as emitted in its call.ended. */
export interface AttemptReport {
  jobId: string
  contactId: string
  attempt: number
  status: CallOutcome
  durationSeconds: number
  willRetry: boolean
  nextRetryAt: Date | null
}

export interface AttemptHooks {
  /** Called right after call.ended was accepted, before any analysis. */
  onEnded? (report: AttemptReport): void
}

export interface CallSimulator {
  readonly options: ResolvedCallSimulatorOptions
  /** One attempt: resolves with its report once all of its events are emitted (and their deliveries settled). */
  placeAttempt (call: CallRequest, attempt: number, hooks?: AttemptHooks): Promise<AttemptReport>
  /** A call on its own (POST /persona-calls): every attempt, re-dials included. */
  dial (call: CallRequest): Promise<AttemptReport[]>
}

export function resolveCallSimulatorOptions (options: CallSimulatorOptions): ResolvedCallSimulatorOptions {
  const maxAttempts = options.maxAttempts ?? DEFAULTS.simulator.callMaxAttempts
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be a whole number ≥ 1')
  return {
    seed: options.seed,
    outcomeWeights: options.outcomeWeights ?? DEFAULT_OUTCOME_WEIGHTS,
    maxAttempts,
    retryDelayMs: options.retryDelayMs ?? DEFAULTS.simulator.callRetryDelayMs,
    agentName: options.agentName ?? 'Sara',
    recordingBaseUrl: options.recordingBaseUrl ?? 'https://recordings.kejue.co',
  }
}

export function createCallSimulator (options: CallSimulatorOptions, deps: { scheduler: Scheduler, emit: EmitFn }): CallSimulator {
  const resolved = resolveCallSimulatorOptions(options)
  const { scheduler, emit } = deps
  const sleep = (simMs: number): Promise<void> => new Promise((resolve) => { scheduler.after(simMs, resolve) })
  const iso = (date: Date): string => date.toISOString()

  async function placeAttempt (call: CallRequest, attempt: number, hooks: AttemptHooks = {}): Promise<AttemptReport> {
    const random = randomFor(resolved.seed, call.streamKey, attempt)
    const outcome = drawOutcome(random, resolved.outcomeWeights)
    const shape = shapeCall(random, outcome)
    const conversationId = newId('conv')
    const common = {
      job_id: call.jobId,
      conversation_id: conversationId,
      contact_id: call.contact.id,
      persona_id: call.personaId,
      campaign_id: call.campaignId,
    }

    await sleep(shape.ringMs)
    let answeredAt: Date | null = null
    if (outcome === 'completed' || outcome === 'voicemail') answeredAt = scheduler.now()
    if (outcome === 'completed') {
      await emit('call.started', {
        ...common,
        direction: 'outbound',
        channel: 'voice',
        job_type: 'outbound_call',
        attempt_number: attempt,
        started_at: iso(answeredAt ?? scheduler.now()),
        contact: { id: call.contact.id, name: call.contact.name, phone: call.contact.phone },
      })
    }
    if (shape.durationSeconds > 0) await sleep(shape.durationSeconds * 1_000)

    const endedAt = scheduler.now()
    const willRetry = RETRYABLE_OUTCOMES.has(outcome) && attempt < resolved.maxAttempts
    const nextRetryAt = willRetry ? new Date(endedAt.getTime() + resolved.retryDelayMs) : null
    // The analysis is drawn now so the transcript can tell the same story.
    const analysis: Analysis | null = outcome === 'completed' ? analyzeCall(random) : null
    const ended = await emit('call.ended', {
      ...common,
      status: outcome,
      ended_reason: shape.endedReason,
      started_at: answeredAt === null ? null : iso(answeredAt),
      ended_at: iso(endedAt),
      duration_seconds: shape.durationSeconds,
      transcript: analysis === null ? null : transcriptFor(resolved.agentName, call.contact.name, analysis),
      recording_url: shape.durationSeconds > 0 ? `${resolved.recordingBaseUrl}/${call.jobId}/${attempt}.mp3` : null,
      retry: {
        will_retry: willRetry,
        next_retry_at: nextRetryAt === null ? null : iso(nextRetryAt),
        attempt_number: attempt,
        max_attempts: resolved.maxAttempts,
      },
    })
    const report: AttemptReport = {
      jobId: call.jobId,
      contactId: call.contact.id,
      attempt,
      status: outcome,
      durationSeconds: shape.durationSeconds,
      willRetry,
      nextRetryAt,
    }
    hooks.onEnded?.(report)

    if (analysis === null) {
      await ended.settled?.()
      return report
    }
    await sleep(shape.analysisMs)
    await ended.unorderedSettled?.()
    const analyzed = await emit('call.analyzed', {
      call: {
        id: call.jobId,
        status: outcome,
        summary: analysis.summary,
        outcome_id: analysis.outcomeId,
        score: analysis.score,
        structured_data: analysis.structuredData,
      },
      contact: { id: call.contact.id, name: call.contact.name, status: analysis.contactStatus },
      persona_id: call.personaId,
      campaign_id: call.campaignId,
      in_call_tools: [],
      post_call_actions: [],
    })
    // The call is over once all its deliveries are (campaign.ended comes last).
    await ended.settled?.()
    await analyzed.settled?.()
    return report
  }

  async function dial (call: CallRequest): Promise<AttemptReport[]> {
    const reports: AttemptReport[] = []
    for (let attempt = 1; ; attempt++) {
      const report = await placeAttempt(call, attempt)
      reports.push(report)
      if (!report.willRetry || report.nextRetryAt === null) return reports
      await sleep(Math.max(0, report.nextRetryAt.getTime() - scheduler.now().getTime()))
    }
  }

  return { options: resolved, placeAttempt, dial }
}
