/**
 * A simulated campaign: dials its contacts through the call simulator, a few at a time.
 *
 *   pending ──start──▶ running ◀──resume── paused
 *      │                  │ └────pause────▶ │
 *      │                  ├──(all contacts done)──────────────▶ ended: completed
 *      └──────────────────┴──cancel (also from paused)──▶ drain ▶ ended: cancelled
 *                         └──fail (also from paused)──▶ campaign.failed ▶ drain ▶ ended: failed
 *
 * - Pausing stops new dials, re-dials included; calls already on the line finish. Resuming
 *   dials again. A re-dial that falls due while paused waits in the queue.
 * - Cancelling and failing drop every contact not yet dialled and every pending re-dial, let the
 *   calls on the line finish ("drain"), then emit campaign.ended, so it is the last event of the
 *   campaign and its stats count every call.ended that was emitted.
 * - `stats` count each contact once, by the status of its latest call.ended (the spec's example
 *   sums to total_contacts); `busy` and `not_called` (never dialled, or still on its first call)
 *   complete the sum, and `calls_placed` counts every call.ended, re-dials included.
 * - `performance` is the catalog's function of those stats and the durations of the connected
 *   calls (src/events/performance.ts).
 *
 * Campaign events are emitted one after another in a chain, in the order of the transitions.
 */
import { ServiceError, coerceError } from '../errors.js'
import { computeCampaignPerformance } from '../events/performance.js'
import type { CampaignPerformance } from '../events/schemas/campaign.js'
import { newId } from '../util/ids.js'
import type { AttemptReport, CallSimulator, EmitFn, SimContact } from './call-simulator.js'
import type { CallOutcome } from '../config/outcome-weights.js'
import type { Scheduler } from './scheduler.js'

export type CampaignStatus = 'pending' | 'running' | 'paused' | 'completed' | 'cancelled' | 'failed'
export type CampaignEndReason = 'completed' | 'cancelled' | 'failed'

export interface CampaignSpec {
  id?: string
  name: string
  personaId: string | null
  contacts: SimContact[]
  /** Calls on the line at once. @defaultValue 10 */
  maxConcurrentCalls?: number
  /** Rehearse campaign.failed: the campaign fails after this many call.ended. @defaultValue null */
  failAfterCalls?: number | null
  /** Names the random streams; the same key and seed give the same outcomes. @defaultValue the id */
  streamKey?: string
}

export interface CampaignStats {
  total_contacts: number
  completed: number
  no_answer: number
  busy: number
  failed: number
  voicemail: number
  not_called: number
  calls_placed: number
}

export interface CampaignSnapshot {
  id: string
  name: string
  personaId: string | null
  status: CampaignStatus
  endReason: CampaignEndReason | null
  /** True once campaign.ended was emitted. */
  ended: boolean
  stats: CampaignStats
  performance: CampaignPerformance
  callsInFlight: number
  createdAt: Date
  startedAt: Date | null
  pausedAt: Date | null
  endedAt: Date | null
  error: { code: string, message: string } | null
}

export interface Campaign {
  readonly id: string
  start (): Promise<void>
  pause (reason?: string): Promise<void>
  resume (): Promise<void>
  cancel (): Promise<void>
  fail (error: { code: string, message: string }): Promise<void>
  snapshot (): CampaignSnapshot
  /** Resolves when campaign.ended has been emitted. */
  readonly ended: Promise<CampaignSnapshot>
}

export interface CampaignDeps {
  scheduler: Scheduler
  calls: CallSimulator
  emit: EmitFn
  /** Errors of background work (an emit that failed); the campaign fails after reporting them. */
  onError?: (error: Error) => void
}

interface QueuedDial {
  index: number
  attempt: number
}

function conflict (message: string): ServiceError {
  return new ServiceError('CONFLICT', message)
}

export function createCampaign (spec: CampaignSpec, deps: CampaignDeps): Campaign {
  const { scheduler, calls, emit } = deps
  const id = spec.id ?? newId('camp')
  const streamKey = spec.streamKey ?? id
  const maxConcurrent = spec.maxConcurrentCalls ?? 10
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError('maxConcurrentCalls must be a whole number ≥ 1')
  const contacts = spec.contacts
  const jobIds = contacts.map(() => newId('job'))
  const latest: Array<CallOutcome | undefined> = contacts.map(() => undefined)
  const connectedSeconds: number[] = []
  let callsPlaced = 0

  const queue: QueuedDial[] = contacts.map((_, index) => ({ index, attempt: 1 }))
  const waitingRedials = new Map<number, () => void>()
  let inFlight = 0

  let status: CampaignStatus = 'pending'
  let endReason: CampaignEndReason | null = null
  let ended = false
  let ending = false
  const createdAt = scheduler.now()
  let startedAt: Date | null = null
  let pausedAt: Date | null = null
  let endedAt: Date | null = null
  let error: { code: string, message: string } | null = null

  let chain: Promise<unknown> = Promise.resolve()
  let resolveEnded: (snapshot: CampaignSnapshot) => void = () => {}
  const endedPromise = new Promise<CampaignSnapshot>((resolve) => { resolveEnded = resolve })

  function stats (): CampaignStats {
    const counts: CampaignStats = {
      total_contacts: contacts.length,
      completed: 0,
      no_answer: 0,
      busy: 0,
      failed: 0,
      voicemail: 0,
      not_called: 0,
      calls_placed: callsPlaced,
    }
    for (const outcome of latest) {
      if (outcome === undefined) counts.not_called++
      else counts[outcome]++
    }
    return counts
  }

  function performance (): CampaignPerformance {
    return computeCampaignPerformance(stats(), connectedSeconds)
  }

  function base (): Record<string, unknown> {
    return { campaign_id: id, campaign_name: spec.name, persona_id: spec.personaId }
  }

  /** Emits in order after every campaign event before it. */
  function emitInOrder (type: Parameters<EmitFn>[0], data: () => Record<string, unknown>): Promise<void> {
    const next = chain.then(async () => {
      const receipt = await emit(type, data())
      // The campaign's last event waits for its delivery too, like the calls before it.
      if (type === 'campaign.ended') await receipt.settled?.()
    })
    chain = next.catch(() => {})
    return next
  }

  function reportError (value: unknown): void {
    const err = coerceError(value)
    deps.onError?.(err)
    if (status === 'running' || status === 'paused') {
      void campaign.fail({ code: 'SIMULATOR_ERROR', message: 'an event could not be emitted' }).catch(() => {})
    }
  }

  function onEnded (report: AttemptReport, index: number): void {
    callsPlaced++
    latest[index] = report.status
    if (report.status === 'completed') connectedSeconds.push(report.durationSeconds)
    if (spec.failAfterCalls != null && callsPlaced >= spec.failAfterCalls && (status === 'running' || status === 'paused')) {
      void campaign.fail({ code: 'TELEPHONY_PROVIDER_UNAVAILABLE', message: 'the telephony provider stopped accepting calls' }).catch(reportError)
    }
  }

  function dialNext (): void {
    while (status === 'running' && inFlight < maxConcurrent) {
      const next = queue.shift()
      if (next === undefined) break
      inFlight++
      const contact = contacts[next.index] as SimContact
      calls.placeAttempt({
        jobId: jobIds[next.index] as string,
        contact,
        personaId: spec.personaId,
        campaignId: id,
        streamKey: `${streamKey}:${next.index}`,
      }, next.attempt, { onEnded: (report) => onEnded(report, next.index) })
        .then((report) => {
          inFlight--
          if (report.willRetry && report.nextRetryAt !== null && (status === 'running' || status === 'paused')) {
            const delayMs = Math.max(0, report.nextRetryAt.getTime() - scheduler.now().getTime())
            waitingRedials.set(next.index, scheduler.after(delayMs, () => {
              waitingRedials.delete(next.index)
              queue.push({ index: next.index, attempt: next.attempt + 1 })
              dialNext()
            }))
          }
          dialNext()
          maybeEnd()
        }, (err: unknown) => {
          inFlight--
          reportError(err)
          maybeEnd()
        })
    }
  }

  function maybeEnd (): void {
    if (ending || inFlight > 0) return
    const finished = status === 'running' && queue.length === 0 && waitingRedials.size === 0
    const stopped = status === 'cancelled' || status === 'failed'
    if (!finished && !stopped) return
    ending = true
    endReason = finished ? 'completed' : (status as 'cancelled' | 'failed')
    if (finished) status = 'completed'
    emitInOrder('campaign.ended', () => {
      endedAt = scheduler.now()
      return {
        ...base(),
        status: endReason,
        end_reason: endReason,
        started_at: startedAt === null ? undefined : startedAt.toISOString(),
        ended_at: endedAt.toISOString(),
        stats: stats(),
        performance: performance(),
        error,
      }
    }).then(() => {
      ended = true
      resolveEnded(campaign.snapshot())
    }, (err: unknown) => {
      deps.onError?.(coerceError(err))
      ended = true
      resolveEnded(campaign.snapshot())
    })
  }

  function dropPending (): void {
    queue.length = 0
    for (const cancel of waitingRedials.values()) cancel()
    waitingRedials.clear()
  }

  const campaign: Campaign = {
    id,
    ended: endedPromise,
    async start () {
      if (status !== 'pending') throw conflict(`campaign is ${status}; only a pending campaign can be started`)
      status = 'running'
      startedAt = scheduler.now()
      const done = emitInOrder('campaign.started', () => ({ ...base(), status: 'running', started_at: (startedAt ?? scheduler.now()).toISOString(), stats: stats() }))
      // Dial once campaign.started is accepted, so it precedes every call of the campaign.
      await done
      dialNext()
      maybeEnd()
    },
    async pause (reason = 'manual') {
      if (status !== 'running') throw conflict(`campaign is ${status}; only a running campaign can be paused`)
      status = 'paused'
      pausedAt = scheduler.now()
      await emitInOrder('campaign.paused', () => ({ ...base(), status: 'paused', pause_reason: reason, started_at: startedAt?.toISOString(), paused_at: (pausedAt ?? scheduler.now()).toISOString(), stats: stats() }))
    },
    async resume () {
      if (status !== 'paused') throw conflict(`campaign is ${status}; only a paused campaign can be resumed`)
      status = 'running'
      const pauseStarted = pausedAt
      pausedAt = null
      await emitInOrder('campaign.resumed', () => ({ ...base(), status: 'running', started_at: startedAt?.toISOString(), paused_at: pauseStarted?.toISOString() ?? null, resumed_at: scheduler.now().toISOString(), stats: stats() }))
      dialNext()
      maybeEnd()
    },
    async cancel () {
      if (status !== 'pending' && status !== 'running' && status !== 'paused') throw conflict(`campaign is ${status}; it can no longer be cancelled`)
      status = 'cancelled'
      dropPending()
      // Resolves once decided; campaign.ended follows when the calls on the line end (`ended`).
      maybeEnd()
    },
    async fail (failure) {
      if (status !== 'running' && status !== 'paused') throw conflict(`campaign is ${status}; only a running or paused campaign can fail`)
      status = 'failed'
      error = { code: failure.code, message: failure.message }
      dropPending()
      const failedAt = scheduler.now()
      const done = emitInOrder('campaign.failed', () => ({ ...base(), status: 'failed', failure_reason: 'infrastructure', error, started_at: startedAt?.toISOString(), failed_at: failedAt.toISOString(), stats: stats() }))
      maybeEnd()
      await done
    },
    snapshot () {
      return {
        id,
        name: spec.name,
        personaId: spec.personaId,
        status,
        endReason,
        ended,
        stats: stats(),
        performance: performance(),
        callsInFlight: inFlight,
        createdAt,
        startedAt,
        pausedAt,
        endedAt,
        error,
      }
    },
  }
  return campaign
}
