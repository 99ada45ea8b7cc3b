/**
 * The delivery engine: claim → prepare (sign, headers) → send → classify → settle.
 *
 * A delivery moves through these states, all but the first held in this process's memory only:
 *
 *   due (in the store)  ──claim──▶  buffered  ──slot free──▶  sending  ──response──▶  settling
 *        ▲                            │                                                   │
 *        └──── lease expires / released on stop ◀──┘                  group commit ──────┘
 *                                                               (succeeded | failed | pending + next time)
 *
 * - Claim: `store.claimDue` leases a batch (one transaction) for `leaseMs`; the lease is renewed
 *   every leaseMs/3 while the delivery is held here, so only a dead process loses it. After a
 *   crash, its leases expire and any worker claims the deliveries again: at least once.
 * - Handoff (handoff.ts): in a process that also accepts events, fresh deliveries are recorded
 *   already leased to this engine and enter the buffer from memory (`handoff.take`), as if
 *   claimed; `handoff.reserve` keeps room for them and for what is due in the store.
 * - Isolation (docs/delivery.md, "Isolation"): a webhook's failures never take capacity another
 *   webhook needs. At most `maxInFlightPerWebhook` requests to one webhook (the sender has a
 *   connection pool per webhook of that size) and `maxInFlight` *active* requests in all. An
 *   attempt still running after `stallAfterMs` is *stalled*: it moves out of the active budget
 *   into a stall lane of `2 × maxInFlight`, so webhooks that hang (each up to its own cap) cannot
 *   hold the slots healthy webhooks use for longer than `stallAfterMs`, however long their
 *   timeout_ms. A webhook with a stalled attempt is *stalling*: it starts new attempts only while
 *   the lane has room, keeps no buffer (its buffered deliveries go back to the store) and is
 *   left out of claims once it holds `maxInFlightPerWebhook`. Stalled attempts do not count
 *   against the claim budget either, so a backlog to dead webhooks cannot stop claims for the
 *   others. None of this waits for a failure to be recorded, and none of it needs a breaker.
 *   Any webhook holding `2 × maxInFlightPerWebhook + claimBatch` deliveries is left out of the
 *   next claim, so one busy endpoint can never take the claims the others need.
 * - Rate limits (docs/delivery.md, "Rate limits"): a webhook with `rateLimitPerS` starts an attempt
 *   only on a send slot reserved in the store (`reserveSendSlots`: slots `1000 / limit` ms apart,
 *   shared by every process) and only while fewer than `limit` of this process's attempts to it
 *   started in the last second. Its deliveries wait buffered here, pending and leased, never
 *   failed; it holds at most `limit` of them, so a slow lane does not take the claims others need.
 * - Per-call ordering needs nothing here: the store keeps a call's next delivery out of claims
 *   until the previous one settled, and wakes the engines when it becomes due.
 * - Settle: the retry policy decides (with up to 10 % jitter from the injected `random`); outcomes
 *   collect in a buffer that one transaction writes at a time (group commit); results whose lease
 *   was lost (fencing) are rejected by the store and dropped here.
 * - Endpoint health (docs/delivery.md, "The life of an endpoint"): settling applies the health
 *   rules (endpoint-health.ts) in the same transaction. A claimed delivery first passes its
 *   webhook's gate: a disabled webhook's delivery is parked; while the breaker is open, first
 *   attempts are held in the store until the probe time (one probe goes when it is due), so a
 *   dead endpoint's backlog stays in the store, not here, and its slots come free. Retry series
 *   go on their schedule. A webhook disabled by settling gets its `webhook.disabled` event out.
 * - Store outages: a failed claim backs off (up to 5 s) and logs once per outage; a failed
 *   settlement is retried while the leases hold, after which the deliveries come back (at least once).
 * - Time: due times, retries and the pump's timer run on the injected clock (`deps.clock`), so
 *   tests drive the retry schedule with a manual clock and assert exact times.
 * - A delivery buffered longer than `recheckHeldAfterMs` has its lease renewed before its attempt
 *   (with the rest of its webhook's long-buffered ones, before the rate limit is checked); when
 *   the lease was taken away meanwhile (an erasure ended it, docs/privacy.md) it is dropped unsent.
 * - Only `send` touches the network and only settling writes attempts.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { coerceError } from '../errors.js'
import { WEBHOOK_DELETED_ERROR } from '../store/store.js'
import type { AttemptResult, ClaimedDelivery, HealthChange, Store, Webhook } from '../store/store.js'
import { DEFAULTS } from '../config/defaults.js'
import { systemClock } from '../util/clock.js'
import type { TimerClock } from '../util/clock.js'
import { acceptEvent } from './accept-event.js'
import type { Handoff } from './handoff.js'
import { attemptResult } from './attempt-result.js'
import { gateFor, healthRule, probeRetryAt, resolveHealthPolicy } from './endpoint-health.js'
import type { HealthPolicy } from './endpoint-health.js'
import { networkFailure } from './outcome.js'
import type { AttemptOutcome, HttpSender } from './outcome.js'
import { prepareRequest } from './prepare.js'
import { webhookDisabledData } from './webhook-disabled.js'

export interface EngineOptions extends HealthPolicy {
  /** Requests in flight at once, over all webhooks. @defaultValue 256 */
  maxInFlight: number
  /** Requests in flight at once to one webhook. @defaultValue 64 */
  maxInFlightPerWebhook: number
  /** Deliveries leased per claim. @defaultValue 128 */
  claimBatch: number
  /** @defaultValue 20000 */
  leaseMs: number
  /** How long stop() waits for requests in flight. @defaultValue 10000 */
  shutdownGraceMs: number
  /** The longest sleep when nothing is due: bounds how late another process's work is seen. @defaultValue 1000 */
  idlePollMs: number
  /**
   * After a claim that found work, the last answer of `store.nextDueAt` younger than this is
   * reused instead of asked again (an empty claim always asks). @defaultValue 100
   */
  nextDueReuseMs: number
  /** Names this worker in leases. */
  owner: string
  /** How long outcomes gather before one commit records them all. @defaultValue 25 */
  settleDelayMs: number
  /**
   * An attempt running longer than this leaves the active budget for the stall lane (see the
   * header). Healthy receivers answer well within it; a dead one holds active slots no longer.
   * @defaultValue 1000
   */
  stallAfterMs: number
  /**
   * A delivery held longer than this before its attempt starts has its lease checked first; a
   * lease taken away meanwhile (erasure, manual retry, another worker) means it is not sent.
   * @defaultValue 1000
   */
  recheckHeldAfterMs: number
}

export interface EngineLogger {
  debug (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

/** One attempt made, for the metrics: counted whether or not its result was recorded. */
export interface AttemptSample {
  webhookId: string
  outcome: AttemptOutcome['kind']
  durationMs: number
  /** How the delivery ended with it; null while it stays pending, or when not this engine's to record. */
  final: 'succeeded' | 'failed' | null
}

export interface EngineMetrics {
  recordAttempt (sample: AttemptSample): void
}

export interface EngineDeps {
  store: Store
  sender: HttpSender
  logger?: EngineLogger
  metrics?: EngineMetrics
  /**
   * When deliveries are due and the timer that wakes the engine for them (retries, idle polls).
   * Real-time pacing (the group-commit delay, the stall lane, shutdown grace) stays on the wall
   * clock. @defaultValue systemClock
   */
  clock?: TimerClock
  /**
   * A source in [0, 1) for retry jitter (up to +10%, docs/delivery.md), so deliveries that failed
   * together in one outage do not all retry in the same millisecond. @defaultValue Math.random
   */
  random?: () => number
}

export interface Engine {
  start (): void
  /** Stops claiming, lets requests in flight finish within the grace period, hands back the rest. */
  stop (graceMs?: number): Promise<void>
  /** There may be new work: claim now. */
  wake (): void
  /** Deliveries held by this engine (buffered, sending or settling). */
  held (): number
  /** For producers in this process: deliveries recorded already leased to this engine (handoff.ts). */
  handoff: Handoff
}

interface Held {
  claim: ClaimedDelivery
  webhookId: string
  sending: boolean
  /** `performance.now()` when its attempt started; only meaningful while sending. */
  sendStartedAt: number
  /** Its attempt has run past `stallAfterMs` and sits in the stall lane. */
  stalled: boolean
  /** Its attempt is over and its result waits for the group commit (settle → writeBatch). */
  settling: boolean
  /** `now()` when it was claimed. */
  claimedAt: number
}

/** A rate-limited webhook's send slots and recent starts (see the header). */
interface RateState {
  limit: number
  intervalMs: number
  /** Reserved start times (ms), ascending. */
  slots: number[]
  reserving: boolean
  /** This process's starts in the last second, oldest first (at most `limit`). */
  starts: number[]
}

// The window of rate limits (docs/delivery.md).
const RATE_WINDOW_MS = 1_000

const silentLogger: EngineLogger = { debug () {}, warn () {}, error () {} }


export function resolveEngineOptions (options: Partial<EngineOptions> = {}): EngineOptions {
  return {
    maxInFlight: options.maxInFlight ?? DEFAULTS.engine.maxInFlight,
    maxInFlightPerWebhook: options.maxInFlightPerWebhook ?? DEFAULTS.engine.maxInFlightPerWebhook,
    claimBatch: options.claimBatch ?? DEFAULTS.engine.claimBatch,
    leaseMs: options.leaseMs ?? DEFAULTS.engine.leaseMs,
    shutdownGraceMs: options.shutdownGraceMs ?? DEFAULTS.engine.shutdownGraceMs,
    idlePollMs: options.idlePollMs ?? DEFAULTS.engineTuning.idlePollMs,
    nextDueReuseMs: options.nextDueReuseMs ?? DEFAULTS.engineTuning.nextDueReuseMs,
    owner: options.owner ?? `worker-${process.pid}`,
    settleDelayMs: options.settleDelayMs ?? DEFAULTS.engineTuning.settleDelayMs,
    stallAfterMs: options.stallAfterMs ?? DEFAULTS.engineTuning.stallAfterMs,
    recheckHeldAfterMs: options.recheckHeldAfterMs ?? DEFAULTS.engineTuning.recheckHeldAfterMs,
    ...resolveHealthPolicy(options),
  }
}

export function createEngine (options: Partial<EngineOptions>, deps: EngineDeps): Engine {
  const opts = resolveEngineOptions(options)
  const { store, sender } = deps
  const logger = deps.logger ?? silentLogger
  const clock = deps.clock ?? systemClock
  const now = clock.now
  const random = deps.random ?? Math.random
  // A webhook holding this many deliveries is left out of claims (and the handoff): its slots, a
  // buffer as large, and one batch in reserve. Deliveries whose results wait for the group
  // commit hold no slot and no buffer: up to as many again, they are not counted (roomTaken).
  const heldPerWebhookCap = opts.maxInFlightPerWebhook * 2 + opts.claimBatch
  // Deliveries held at most, stalled attempts not counted: enough to keep every slot busy while
  // the next claim runs.
  const maxHeld = opts.maxInFlight * 2
  // Stalled attempts at most. Each holds a socket, so this and maxInFlight bound the sockets
  // (768 by default, under the common 1,024 file descriptor limit).
  const maxStalled = opts.maxInFlight * 2

  const rule = healthRule(opts)
  // The latest state seen of each webhook this engine holds deliveries of (from claims and from
  // settling), so that a breaker opened meanwhile stops buffered first attempts before they go.
  const webhookStates = new Map<string, Webhook>()
  // The latest error of each webhook's attempts, for the webhook.disabled event.
  const lastErrors = new Map<string, string>()
  // Deliveries granted as their breaker's probe: they go whatever the state says meanwhile.
  const probing = new Set<string>()

  const held = new Map<string, Held>()
  const heldByWebhook = new Map<string, number>()
  // Held deliveries whose attempt is over and whose result waits to be written, in all and by webhook.
  let settling = 0
  const settlingByWebhook = new Map<string, number>()
  // Attempts in flight per webhook, stalled ones included: the per-webhook cap.
  const sendingByWebhook = new Map<string, number>()
  const stalledByWebhook = new Map<string, number>()
  // Buffered deliveries per webhook, in claim order.
  const queues = new Map<string, ClaimedDelivery[]>()
  // Attempts in flight and not stalled: the active budget (maxInFlight).
  const active = new Set<Held>()
  let stalled = 0
  let stallTimer: NodeJS.Timeout | null = null
  // Rate-limited webhooks (see the header) and the timer that runs dispatch when a slot comes up.
  const rates = new Map<string, RateState>()
  let dispatchTimer: unknown = null
  let dispatchTimerAt = Infinity
  // Webhooks whose long-buffered deliveries have their leases checked (recheck): none is sent meanwhile.
  const rechecking = new Set<string>()

  let running = false
  let stopping = false
  let claiming = false
  let pumpAgain = false
  // The last claim stopped at this process's capacity (more may be due): claim again once
  // settlements have made room for a batch.
  let roomLimited = false
  // Some webhook was (or became) full at the last claim: claim again once one has room.
  let webhookLimited = false
  // Those webhooks. Whether one is full also depends on its stalling, so each is checked again
  // when its deliveries are released or its last stalled attempt ends (roomAgain).
  let limited = new Set<string>()
  let pumpTimer: unknown = null
  let pumpTimerAt = Infinity
  let heartbeat: NodeJS.Timeout | null = null
  let unsubscribe: (() => void) | null = null

  let results: AttemptResult[] = []
  let flushing: Promise<void> | null = null
  let idleWaiters: Array<() => void> = []

  // Store calls failed in a row: one log line per outage, not one per failed call, and claims
  // back off until the store answers again (docs/storage.md).
  let storeFailures = 0

  function storeFailed (err: unknown, what: string): void {
    storeFailures++
    const error = coerceError(err) as Error & { code?: unknown }
    if (storeFailures === 1 || error.code !== 'STORE_UNAVAILABLE') {
      logger.error({ err: error }, `${what} failed; retrying with backoff until the store answers`)
    } else {
      logger.debug({ err: error, failures: storeFailures }, `${what} failed again`)
    }
  }

  function storeAnswered (): void {
    if (storeFailures === 0) return
    logger.warn({ failures: storeFailures }, 'the store answers again; delivery resumes')
    storeFailures = 0
  }

  function storeBackoffMs (): number {
    return Math.min(opts.idlePollMs * 2 ** Math.min(Math.max(storeFailures - 1, 0), 10), DEFAULTS.engineTuning.maxStoreBackoffMs)
  }

  function count (map: Map<string, number>, key: string, delta: number): number {
    const next = (map.get(key) ?? 0) + delta
    if (next <= 0) map.delete(key)
    else map.set(key, next)
    return next
  }

  function schedulePump (delayMs: number): void {
    if (!running || stopping) return
    const at = now() + Math.max(0, delayMs)
    if (pumpTimer !== null && pumpTimerAt <= at) return
    if (pumpTimer !== null) clock.clearTimer(pumpTimer)
    pumpTimerAt = at
    pumpTimer = clock.setTimer(() => {
      pumpTimer = null
      pumpTimerAt = Infinity
      void pump()
    }, Math.max(0, delayMs))
  }

  async function pump (): Promise<void> {
    if (!running || stopping) return
    if (claiming) {
      pumpAgain = true
      return
    }
    claiming = true
    try {
      do {
        pumpAgain = false
        await claimOnce()
      } while (pumpAgain && running && !stopping)
    } catch (err) {
      storeFailed(err, 'claiming deliveries')
      schedulePump(storeBackoffMs())
    } finally {
      claiming = false
    }
  }

  /**
   * The store's last answer to nextDueAt (ms, null: nothing pending) and when it was asked, with
   * what this engine has scheduled since (its retries, its holds) folded in.
   */
  let knownNextDue: { at: number | null, askedAt: number } | null = null

  function scheduledFor (at: number): void {
    if (knownNextDue !== null && (knownNextDue.at === null || at < knownNextDue.at)) knownNextDue.at = at
  }

  async function claimOnce (): Promise<void> {
    const room = Math.min(opts.claimBatch, maxHeld - heldCounted())
    if (room <= 0) {
      roomLimited = true
      return
    }
    const excluded = [...heldByWebhook.keys()].filter((id) => claimFull(id, roomTaken(id)))
    const claimed = await store.claimDue({
      now: new Date(now()),
      limit: room,
      leaseMs: opts.leaseMs,
      owner: opts.owner,
      excludeWebhookIds: excluded,
    })
    storeAnswered()
    if (stopping) {
      await store.releaseLeases(claimed)
      return
    }
    limited = new Set(excluded)
    let saturated = false
    for (const claim of await passGates(claimed)) saturated = accept(claim) || saturated
    dispatch()
    roomLimited = claimed.length === room && room < opts.claimBatch
    webhookLimited = limited.size > 0
    if (claimed.length === room) {
      // More may be due: claim again at once. A webhook that just filled up is left out of that
      // claim, which steps over its lane without reading its backlog (claimDue), so the others
      // need not wait until a hanging endpoint's requests time out and give back a slot.
      pumpAgain = true
      return
    }
    // A claim that found work took everything due now: a due time asked a moment ago that is
    // still ahead holds for what was stored then, and what came since wakes the engine (new
    // events, released work) or is its own retry (settle sets the timer). See DEFAULTS
    // nextDueReuseMs. One that has passed was what this claim just took: what is due after it is
    // unknown, so the store is asked again (reusing it slept a retry due soon after until the idle poll).
    const reuse = claimed.length > 0 && knownNextDue !== null && now() - knownNextDue.askedAt < opts.nextDueReuseMs &&
      (knownNextDue.at === null || knownNextDue.at > now())
    if (!reuse || knownNextDue === null) knownNextDue = { at: (await store.nextDueAt())?.getTime() ?? null, askedAt: now() }
    const untilDue = knownNextDue.at === null ? opts.idlePollMs : knownNextDue.at - now()
    if (untilDue > 0) schedulePump(Math.min(untilDue, opts.idlePollMs))
    // Due now but not claimed: either its webhook is full (release() pumps when it has room),
    // or it became due while this claim ran (a timer a hair early): look again at once.
    else schedulePump(webhookLimited ? opts.idlePollMs : 5)
  }

  /**
   * The deliveries of a claim that may be sent now; the others are parked (disabled webhook) or
   * held until the probe time (open breaker) in the store. One probe per webhook when it is due.
   */
  async function passGates (claimed: readonly ClaimedDelivery[], handedOff = false): Promise<ClaimedDelivery[]> {
    const at = new Date(now())
    const pass: ClaimedDelivery[] = []
    const park: ClaimedDelivery[] = []
    const hold = new Map<string, { until: Date, claims: ClaimedDelivery[] }>()
    const probes = new Map<string, boolean>()
    for (const claim of claimed) {
      const webhook = claim.webhook
      if (webhook === null) {
        pass.push(claim)
        continue
      }
      // A handed-off delivery carries its webhook as routing read it: what this engine learnt
      // since (a breaker its settlements opened) is newer, and decides.
      if (!handedOff || !webhookStates.has(webhook.id)) webhookStates.set(webhook.id, webhook)
      const gate = gateFor(claim, webhookStates.get(webhook.id) ?? webhook, opts, at)
      if (gate.kind === 'send') pass.push(claim)
      else if (gate.kind === 'park') park.push(claim)
      else {
        let until = gate.kind === 'hold' ? gate.until : null
        if (gate.kind === 'probe' && !probes.has(webhook.id)) {
          const granted = await store.takeBreakerProbe(webhook.id, at, probeRetryAt(webhook, opts, at))
          probes.set(webhook.id, granted)
          if (granted) {
            logger.warn({ webhookId: webhook.id, deliveryId: claim.deliveryId }, 'breaker half open: sending one probe')
            probing.add(claim.deliveryId)
            pass.push(claim)
            continue
          }
        }
        until ??= probeRetryAt(webhook, opts, at)
        const entry = hold.get(webhook.id)
        if (entry === undefined) hold.set(webhook.id, { until, claims: [claim] })
        else entry.claims.push(claim)
      }
    }
    if (park.length > 0) await store.parkDeliveries(park, at)
    for (const [webhookId, { until, claims }] of hold) {
      await store.holdFirstAttempts(webhookId, claims, until, at)
      scheduledFor(until.getTime())
    }
    return pass
  }

  /** Buffered deliveries whose webhook changed state since the claim go back through the gates (parked or held). */
  function regate (claims: readonly ClaimedDelivery[]): void {
    for (const claim of claims) release(claim.deliveryId)
    // Released leases are claimed again at once and pass the gates with the webhook as it is then.
    store.releaseLeases(claims).then(() => { schedulePump(0) }, (err: unknown) => logger.error({ err: coerceError(err) }, 'releasing leases failed'))
  }

  /** Whether a buffered delivery must not go now: its webhook was disabled or its breaker opened. */
  function stopped (claim: ClaimedDelivery, webhookId: string): boolean {
    const webhook = webhookStates.get(webhookId)
    if (webhook === undefined || probing.has(claim.deliveryId)) return false
    const gate = gateFor(claim, webhook, opts, new Date(now()))
    return gate.kind === 'park' || gate.kind === 'hold'
  }

  /** Records what settling did to webhooks' health; a webhook it disabled gets its event out. */
  function healthChanged (changes: readonly HealthChange[]): void {
    for (const { webhook, disabled } of changes) {
      if (heldByWebhook.has(webhook.id)) webhookStates.set(webhook.id, webhook)
      if (webhook.health.breaker !== 'closed') logger.warn({ webhookId: webhook.id, breaker: webhook.health.breaker, probeAt: webhook.health.breakerProbeAt, failures: webhook.health.consecutiveFailures }, 'webhook breaker is not closed')
      if (!disabled) continue
      const lastError = lastErrors.get(webhook.id) ?? null
      logger.warn({ webhookId: webhook.id, reason: webhook.disabledReason, lastError }, 'webhook disabled')
      acceptEvent(store, {
        workspaceId: webhook.workspaceId,
        event: 'webhook.disabled',
        data: webhookDisabledData(webhook, lastError),
      }, new Date(now())).catch((err: unknown) => logger.error({ err: coerceError(err), webhookId: webhook.id }, 'emitting webhook.disabled failed'))
    }
  }

  /** Held deliveries that count against maxHeld: stalled attempts are bounded by maxStalled, settling ones (up to maxHeld) hold no buffer. */
  function heldCounted (): number {
    return held.size - stalled - Math.min(settling, maxHeld) + reservedTotal
  }

  /**
   * What a webhook's held deliveries count against its cap: settling ones (their results wait
   * for the group commit, which on PostgreSQL takes a round trip or two) only beyond as many
   * again. Counted, they made a fast webhook look full while most of what it held was done, and
   * a third of PostgreSQL's deliveries went through the store's claims instead of the handoff
   * (docs/performance.md, tenth round).
   */
  function roomTaken (webhookId: string): number {
    return (heldByWebhook.get(webhookId) ?? 0) - Math.min(settlingByWebhook.get(webhookId) ?? 0, heldPerWebhookCap)
  }

  // Room reserved by producers of this process for deliveries they are recording leased to this
  // engine (handoff.ts), by lease token; they count as held from the reservation on.
  const reservations = new Map<string, { webhookId: string, issuedAt: number }>()
  const reservedByWebhook = new Map<string, number>()
  let reservedTotal = 0

  function unreserve (token: string): number | null {
    const reservation = reservations.get(token)
    if (reservation === undefined) return null
    reservations.delete(token)
    count(reservedByWebhook, reservation.webhookId, -1)
    reservedTotal--
    return reservation.issuedAt
  }

  const handoff: Handoff = {
    reserve (webhook) {
      if (!running || stopping) return null
      // Rate-limited webhooks are paced by what claims hand out (one second's worth at most).
      if (webhook.rateLimitPerS !== null) return null
      // Due work waits in the store for room here (the last claim stopped at this engine's room,
      // or at this webhook's share): it goes first, fresh events wait their turn in the store.
      if (roomLimited || limited.has(webhook.id)) return null
      // One claim batch of room always stays for what is due in the store (retries, events of
      // other processes), so that a busy ingest never starves it.
      if (heldCounted() + opts.claimBatch >= maxHeld) return null
      if (claimFull(webhook.id, roomTaken(webhook.id) + (reservedByWebhook.get(webhook.id) ?? 0))) return null
      const token = randomUUID()
      const issuedAt = now()
      reservations.set(token, { webhookId: webhook.id, issuedAt })
      count(reservedByWebhook, webhook.id, 1)
      reservedTotal++
      return { token, owner: opts.owner, expiresAt: new Date(issuedAt + opts.leaseMs) }
    },
    cancel (leases) {
      for (const lease of leases) unreserve(lease.leaseToken)
      // A stopped engine's store may be closing; leases written after all then simply run out.
      if (!running || stopping) return
      // The write may have committed after all (a lost answer, a sync that failed): its leases
      // go back to the store (token-checked, so rows never written are untouched) and the next
      // claim takes them.
      store.releaseLeases(leases).then(() => { schedulePump(0) }, (err: unknown) => {
        // Mostly the same outage that failed the write: one log line per outage. If they were
        // written, their leases run out and they are claimed again.
        storeFailed(err, 'releasing handed-off leases')
      })
    },
    take (claims) {
      const issuedAt = new Map(claims.map((claim) => [claim.deliveryId, unreserve(claim.leaseToken) ?? now()]))
      const giveBack = (back: readonly ClaimedDelivery[]): void => {
        // Back to the store at once, as a stopping engine does with its buffer.
        if (back.length > 0) store.releaseLeases(back).catch((err: unknown) => logger.error({ err: coerceError(err) }, 'releasing leases failed'))
      }
      if (!running || stopping) {
        giveBack(claims)
        return
      }
      passGates(claims, true).then((pass) => {
        if (!running || stopping) {
          giveBack(pass)
          return
        }
        // Held since the lease was issued: a slow commit makes the recheck renew it before sending.
        for (const claim of pass) accept(claim, issuedAt.get(claim.deliveryId))
        dispatch()
      }, (err: unknown) => {
        // Their leases run out and they are claimed again (at least once).
        storeFailed(err, 'taking handed-off deliveries')
      }).finally(() => {
        if (roomLimited) schedulePump(0)
      })
    },
  }

  /** A webhook holding `n` deliveries takes no more from claims. */
  function claimFull (webhookId: string, n: number): boolean {
    if (n >= heldPerWebhookCap) return true
    // A rate-limited webhook holds one second's worth at most.
    const rate = rates.get(webhookId)
    if (rate !== undefined && n >= rate.limit) return true
    // A stalling webhook cannot use a buffer: it gets what it has slots for, no more.
    return n >= opts.maxInFlightPerWebhook && stalledByWebhook.has(webhookId)
  }

  /** Holds a claimed delivery; true when its webhook now holds as many as it may. */
  function accept (claim: ClaimedDelivery, claimedAt = now()): boolean {
    const webhookId = claim.webhook?.id ?? `deleted:${claim.deliveryId}`
    trackRate(webhookId, claim.webhook?.rateLimitPerS ?? null)
    held.set(claim.deliveryId, { claim, webhookId, sending: false, sendStartedAt: 0, stalled: false, settling: false, claimedAt })
    const queue = queues.get(webhookId)
    if (queue === undefined) queues.set(webhookId, [claim])
    else queue.push(claim)
    count(heldByWebhook, webhookId, 1)
    const full = claimFull(webhookId, roomTaken(webhookId))
    if (full) limited.add(webhookId)
    return full
  }

  /** True (once) when a webhook the last claim found full has room again. */
  function roomAgain (webhookId: string): boolean {
    if (!limited.has(webhookId) || claimFull(webhookId, roomTaken(webhookId))) return false
    limited.delete(webhookId)
    return true
  }

  /** Whether `webhookId` may start an attempt now (the budgets in the header). */
  function maySend (webhookId: string): boolean {
    if ((sendingByWebhook.get(webhookId) ?? 0) >= opts.maxInFlightPerWebhook) return false
    // A stalling webhook's next attempt will likely stall too: only while the lane has room.
    return stalled < maxStalled || !stalledByWebhook.has(webhookId)
  }

  /** Keeps the rate state of a webhook in step with its setting, as the latest claim read it. */
  function trackRate (webhookId: string, limit: number | null): void {
    if (limit === null) {
      rates.delete(webhookId)
      return
    }
    const rate = rates.get(webhookId)
    if (rate === undefined) {
      rates.set(webhookId, { limit, intervalMs: RATE_WINDOW_MS / limit, slots: [], reserving: false, starts: [] })
    } else if (rate.limit !== limit) {
      rate.limit = limit
      rate.intervalMs = RATE_WINDOW_MS / limit
      rate.slots = []
    }
  }

  /** Runs dispatch at `at` (ms since the epoch), unless it is due to run earlier. */
  function dispatchAt (at: number): void {
    if (!running || stopping || at >= dispatchTimerAt) return
    if (dispatchTimer !== null) clock.clearTimer(dispatchTimer)
    dispatchTimerAt = at
    dispatchTimer = clock.setTimer(() => {
      dispatchTimer = null
      dispatchTimerAt = Infinity
      dispatch()
    }, Math.max(0, at - now()))
  }

  /**
   * Whether a rate-limited webhook may start an attempt now; if so the slot is used up. Otherwise
   * it arranges to be asked again (a timer, or slots reserved from the store).
   */
  function takeRateSlot (webhookId: string, waiting: number, t: number): boolean {
    const rate = rates.get(webhookId)
    if (rate === undefined) return true
    while (rate.starts.length > 0 && (rate.starts[0] as number) + RATE_WINDOW_MS < t) rate.starts.shift()
    if (rate.starts.length >= rate.limit) {
      dispatchAt((rate.starts[0] as number) + RATE_WINDOW_MS + 1)
      return false
    }
    // A slot come and gone (timers ran late) is given up: used now it would bunch with the
    // slots after it, which other processes may be using on time.
    const late = Math.max(rate.intervalMs, DEFAULTS.engineTuning.rateSlotLateMs)
    while (rate.slots.length > 0 && (rate.slots[0] as number) < t - late) rate.slots.shift()
    const slot = rate.slots[0]
    if (slot === undefined) {
      reserveSlots(webhookId, rate, waiting)
      return false
    }
    if (slot > t) {
      dispatchAt(slot)
      return false
    }
    rate.slots.shift()
    rate.starts.push(t)
    return true
  }

  function reserveSlots (webhookId: string, rate: RateState, waiting: number): void {
    if (rate.reserving) return
    rate.reserving = true
    const count = Math.max(1, Math.min(waiting, Math.ceil(rate.limit * DEFAULTS.engineTuning.rateReserveFraction)))
    const { intervalMs } = rate
    store.reserveSendSlots(webhookId, count, intervalMs, new Date(now())).then((first) => {
      storeAnswered()
      // A limit changed meanwhile makes these slots wrong for it: drop them.
      if (rate.intervalMs !== intervalMs) return
      for (let i = 0; i < count; i++) rate.slots.push(first.getTime() + i * intervalMs)
      dispatch()
    }, (err: unknown) => {
      storeFailed(err, 'reserving send slots')
      dispatchAt(now() + storeBackoffMs())
    }).finally(() => { rate.reserving = false })
  }

  /** Starts sends while slots are free, round-robin over webhooks with buffered deliveries. */
  function dispatch (): void {
    let progressed = true
    while (progressed && active.size < opts.maxInFlight && !stopping) {
      progressed = false
      for (const [webhookId, queue] of queues) {
        if (active.size >= opts.maxInFlight) break
        if (!maySend(webhookId) || rechecking.has(webhookId)) continue
        if (needsRecheck(queue[0])) {
          recheck(webhookId, queue)
          continue
        }
        // The attempt starts at the time the rate limit was checked against, to the millisecond.
        const startedAt = now()
        if (!takeRateSlot(webhookId, queue.length, startedAt)) continue
        const claim = queue.shift()
        if (claim === undefined) {
          queues.delete(webhookId)
          continue
        }
        if (stopped(claim, webhookId)) {
          // Its webhook was disabled or its breaker opened since the claim: none of its buffer goes.
          const back = [claim, ...queue.filter((c) => stopped(c, webhookId))]
          const keep = queue.filter((c) => !stopped(c, webhookId))
          if (keep.length === 0) queues.delete(webhookId)
          else queues.set(webhookId, keep)
          regate(back)
          progressed = true
          continue
        }
        if (queue.length === 0) queues.delete(webhookId)
        progressed = true
        void attempt(claim, webhookId, startedAt)
      }
    }
  }

  async function attempt (claim: ClaimedDelivery, webhookId: string, startedAt: number): Promise<void> {
    const entry = held.get(claim.deliveryId) ?? { claim, webhookId, sending: false, sendStartedAt: 0, stalled: false, settling: false, claimedAt: now() }
    entry.sending = true
    entry.sendStartedAt = performance.now()
    active.add(entry)
    count(sendingByWebhook, webhookId, 1)
    let outcome: AttemptOutcome
    if (claim.webhook === null) {
      outcome = { kind: 'blocked', reason: 'webhook-deleted', durationMs: 0, error: WEBHOOK_DELETED_ERROR }
    } else {
      try {
        outcome = await sender.send(prepareRequest(claim, claim.webhook, startedAt))
      } catch (err) {
        // The sender returns outcomes as values; anything thrown is a bug, kept retryable.
        const error = coerceError(err)
        logger.error({ err: error, deliveryId: claim.deliveryId }, 'sender threw')
        outcome = networkFailure('internal send error', now() - startedAt)
      }
    }
    leaveSending(entry, webhookId)
    settle(claim, webhookId, startedAt, outcome)
  }

  /** An attempt is over (or was dropped unsent): its slot, active or stalled, is free again. */
  function leaveSending (entry: Held, webhookId: string): void {
    if (entry.stalled) {
      entry.stalled = false
      stalled--
      // No longer stalling: it may take a buffer from claims again.
      if (count(stalledByWebhook, webhookId, -1) === 0 && roomAgain(webhookId)) schedulePump(0)
    } else {
      active.delete(entry)
    }
    count(sendingByWebhook, webhookId, -1)
  }

  function settle (claim: ClaimedDelivery, webhookId: string, startedAt: number, outcome: AttemptOutcome): void {
    // Handed back at shutdown: another attempt will be made, this one's result is not ours to record.
    // Or held again under a newer lease since (claimed anew): the store would refuse this result.
    const entry = held.get(claim.deliveryId)
    if (entry === undefined || entry.settling || entry.claim.leaseToken !== claim.leaseToken) {
      // Its result is not recorded, but the request was made: the attempts metric counts it, so
      // that it matches what receivers saw.
      countAttempt(claim, webhookId, outcome, null)
      return
    }
    entry.settling = true
    settling++
    count(settlingByWebhook, webhookId, 1)
    const result = attemptResult({
      deliveryId: claim.deliveryId,
      leaseToken: claim.leaseToken,
      attempt: claim.attempt,
      maxAttempts: claim.maxAttempts,
      backoffMs: claim.webhook?.backoffMs ?? DEFAULTS.delivery.backoffMs,
      retryScheduleMs: claim.webhook?.retryScheduleMs ?? null,
      retries: claim.webhook === null ? undefined : claim.webhook.retryScheduleMs?.length ?? claim.webhook.maxRetries,
      startedAt,
    }, outcome, random)
    results.push(result)
    const { settlement, attempt: { statusCode, error } } = result
    if (error !== null && claim.webhook !== null) lastErrors.set(webhookId, error)
    const log = outcome.kind === 'delivered' ? logger.debug : logger.warn
    log.call(logger, {
      deliveryId: claim.deliveryId,
      eventId: claim.eventId,
      webhookId,
      attempt: claim.attempt,
      statusCode,
      error,
      durationMs: Math.round(outcome.durationMs),
      next: settlement.status,
    }, outcome.kind === 'delivered' ? 'delivery attempt succeeded' : 'delivery attempt failed')
    countAttempt(claim, webhookId, outcome, settlement.status === 'pending' ? null : settlement.status)
    scheduleFlush()
    dispatch()
  }

  function countAttempt (claim: ClaimedDelivery, webhookId: string, outcome: AttemptOutcome, final: AttemptSample['final']): void {
    deps.metrics?.recordAttempt({
      // A label per subscription; inline (per-call) and deleted webhooks share one each, so the
      // number of series stays bounded by the number of subscriptions.
      webhookId: claim.webhook === null ? 'deleted' : claim.webhook.jobId !== null ? 'inline' : webhookId,
      outcome: outcome.kind,
      durationMs: outcome.durationMs,
      final,
    })
  }

  function scheduleFlush (): void {
    if (flushing !== null) return
    flushing = (async () => {
      while (results.length > 0) {
        // Group commit: a durable commit costs about as much for one row as for hundreds, and a
        // synchronous driver blocks the event loop while it syncs; so let outcomes gather for a
        // few milliseconds (the receivers already have their requests; only settling waits).
        if (results.length < opts.claimBatch) await new Promise((resolve) => setTimeout(resolve, opts.settleDelayMs))
        const batch = results
        results = []
        await writeBatch(batch)
      }
    })().finally(() => {
      flushing = null
      if (results.length > 0) scheduleFlush()
      else if (held.size === 0) notifyIdle()
    })
  }

  async function writeBatch (batch: AttemptResult[]): Promise<void> {
    let rejected: string[] = []
    for (let tries = 1; ; tries++) {
      try {
        const done = await store.completeAttempts(batch, new Date(now()), rule)
        rejected = done.rejected
        // Ordered deliveries made due by these settlements: claim them now.
        if (done.released > 0) schedulePump(0)
        storeAnswered()
        healthChanged(done.health)
        break
      } catch (err) {
        storeFailed(err, 'recording attempts')
        // Given up: not recorded, the leases lapse and the deliveries are sent again (at least once).
        if (tries >= DEFAULTS.engineTuning.settleWriteTries || stopping) break
        // The leases keep these deliveries ours for a while: a short outage costs no resend.
        await new Promise((resolve) => setTimeout(resolve, storeBackoffMs()))
      }
    }
    if (rejected.length > 0) logger.warn({ deliveryIds: rejected }, 'lease lost before settling; another worker owns these deliveries')
    let earliestRetry = Infinity
    let roomFreed = false
    for (const result of batch) {
      roomFreed = release(result.deliveryId) || roomFreed
      if (result.settlement.status === 'pending') earliestRetry = Math.min(earliestRetry, result.settlement.nextAttemptAt.getTime())
    }
    if (earliestRetry !== Infinity) {
      scheduledFor(earliestRetry)
      schedulePump(earliestRetry - now())
    }
    if (roomFreed || (roomLimited && heldCounted() <= maxHeld - opts.claimBatch)) schedulePump(0)
  }

  /** Lets go of a delivery; true when its webhook was full and now has room again. */
  function release (deliveryId: string): boolean {
    const entry = held.get(deliveryId)
    if (entry === undefined) return false
    held.delete(deliveryId)
    probing.delete(deliveryId)
    if (entry.settling) {
      settling--
      count(settlingByWebhook, entry.webhookId, -1)
    }
    if (count(heldByWebhook, entry.webhookId, -1) === 0) {
      webhookStates.delete(entry.webhookId)
      lastErrors.delete(entry.webhookId)
    }
    return roomAgain(entry.webhookId)
  }

  /**
   * Moves attempts running past `stallAfterMs` from the active budget to the stall lane, and
   * hands back the buffer of each webhook that has just started stalling: at its pace those
   * deliveries would sit here for a timeout or more, holding room other webhooks need.
   */
  function moveStalled (): void {
    const stalledBefore = performance.now() - opts.stallAfterMs
    const startedStalling: string[] = []
    let moved = 0
    // `active` is in start order: the first attempt younger than the limit ends the scan.
    for (const entry of active) {
      if (stalled >= maxStalled || entry.sendStartedAt > stalledBefore) break
      moved++
      active.delete(entry)
      entry.stalled = true
      stalled++
      if (count(stalledByWebhook, entry.webhookId, 1) === 1) startedStalling.push(entry.webhookId)
    }
    const handBack: ClaimedDelivery[] = []
    for (const webhookId of startedStalling) {
      const queue = queues.get(webhookId)
      if (queue === undefined) continue
      const keep = Math.max(0, opts.maxInFlightPerWebhook - (sendingByWebhook.get(webhookId) ?? 0))
      const extra = queue.splice(keep)
      if (queue.length === 0) queues.delete(webhookId)
      for (const claim of extra) release(claim.deliveryId)
      handBack.push(...extra)
      // Its handed-back deliveries are due: when it stops stalling (roomAgain), claim again.
      if (extra.length > 0) limited.add(webhookId)
    }
    if (handBack.length > 0) {
      // Released before the next claim runs, so that claim can take them (or others' work) at once.
      void store.releaseLeases(handBack)
        .catch((err: unknown) => logger.error({ err: coerceError(err) }, 'releasing leases failed'))
        .then(() => { schedulePump(0) })
    }
    if (moved === 0) return
    dispatch()
    if (roomLimited && heldCounted() <= maxHeld - opts.claimBatch) schedulePump(0)
  }

  /** Whether a buffered delivery has waited long enough to have its lease checked before it is sent. */
  function needsRecheck (claim: ClaimedDelivery | undefined): boolean {
    const entry = claim === undefined ? undefined : held.get(claim.deliveryId)
    return entry !== undefined && now() - entry.claimedAt > opts.recheckHeldAfterMs
  }

  /**
   * Renews the leases of a webhook's long-buffered deliveries (one store call) before any of them
   * is sent, and drops those whose lease was taken away meanwhile (an erasure, or a retry
   * elsewhere): they are not ours to send any more. It runs before the rate limit is checked, so
   * the store round trip never comes between a rate slot and its attempt.
   */
  function recheck (webhookId: string, queue: ClaimedDelivery[]): void {
    const stale = queue.filter(needsRecheck)
    rechecking.add(webhookId)
    store.renewLeases(stale, opts.leaseMs, new Date(now())).then((ids) => {
      storeAnswered()
      const renewed = new Set(ids)
      let pumpNow = false
      for (const claim of stale) {
        const entry = held.get(claim.deliveryId)
        // Handed back (shutdown) or dropped by the heartbeat meanwhile.
        if (entry === undefined || entry.sending) continue
        if (renewed.has(claim.deliveryId)) {
          entry.claimedAt = now()
          continue
        }
        const rest = (queues.get(webhookId) ?? []).filter((c) => c.deliveryId !== claim.deliveryId)
        if (rest.length === 0) queues.delete(webhookId)
        else queues.set(webhookId, rest)
        pumpNow = release(claim.deliveryId) || pumpNow
      }
      if (pumpNow) schedulePump(0)
      if (held.size === 0 && results.length === 0 && flushing === null) notifyIdle()
    }, (err: unknown) => {
      // The store is down: send as before; fencing still rejects a stale settlement.
      storeFailed(err, 'checking leases')
      for (const claim of stale) {
        const entry = held.get(claim.deliveryId)
        if (entry !== undefined) entry.claimedAt = now()
      }
    }).finally(() => {
      rechecking.delete(webhookId)
      dispatch()
    })
  }

  async function renewLeases (): Promise<void> {
    if (held.size === 0) return
    const items = [...held.values()].map(({ claim }) => claim)
    try {
      const renewed = new Set(await store.renewLeases(items, opts.leaseMs, new Date(now())))
      storeAnswered()
      for (const claim of items) {
        if (renewed.has(claim.deliveryId)) continue
        const entry = held.get(claim.deliveryId)
        // A buffered delivery whose lease is gone is not ours to send any more.
        if (entry !== undefined && !entry.sending) {
          const queue = queues.get(entry.webhookId)
          if (queue !== undefined) queues.set(entry.webhookId, queue.filter((c) => c.deliveryId !== claim.deliveryId))
          release(claim.deliveryId)
        }
      }
    } catch (err) {
      // The leases run on; the next heartbeat tries again (or they lapse and are claimed anew).
      storeFailed(err, 'renewing leases')
    }
  }

  function notifyIdle (): void {
    const waiters = idleWaiters
    idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  return {
    start () {
      if (running) return
      running = true
      stopping = false
      unsubscribe = store.onWork(() => { void pump() })
      heartbeat = setInterval(() => { void renewLeases() }, Math.max(10, Math.floor(opts.leaseMs / 3)))
      heartbeat.unref()
      stallTimer = setInterval(moveStalled, Math.max(10, Math.floor(opts.stallAfterMs / 4)))
      stallTimer.unref()
      void pump()
    },

    async stop (graceMs = opts.shutdownGraceMs) {
      if (!running) return
      stopping = true
      unsubscribe?.()
      if (pumpTimer !== null) clock.clearTimer(pumpTimer)
      pumpTimer = null
      if (dispatchTimer !== null) clock.clearTimer(dispatchTimer)
      dispatchTimer = null
      dispatchTimerAt = Infinity
      // Buffered deliveries go back at once; requests in flight get the grace period.
      const buffered = [...queues.values()].flat()
      queues.clear()
      for (const claim of buffered) release(claim.deliveryId)
      if (buffered.length > 0) await store.releaseLeases(buffered).catch((err: unknown) => logger.error({ err: coerceError(err) }, 'releasing leases failed'))
      while (claiming) await new Promise((resolve) => setTimeout(resolve, 5))
      if (held.size > 0) {
        await Promise.race([
          new Promise<void>((resolve) => idleWaiters.push(resolve)),
          new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
        ])
      }
      while (flushing !== null) await flushing
      const leftover = [...held.values()].map(({ claim }) => claim)
      if (leftover.length > 0) {
        logger.warn({ count: leftover.length }, 'attempts still running at shutdown; handing their deliveries back')
        await store.releaseLeases(leftover).catch((err: unknown) => logger.error({ err: coerceError(err) }, 'releasing leases failed'))
        for (const claim of leftover) release(claim.deliveryId)
      }
      if (heartbeat !== null) clearInterval(heartbeat)
      heartbeat = null
      if (stallTimer !== null) clearInterval(stallTimer)
      stallTimer = null
      running = false
    },

    wake () {
      void pump()
    },

    held () {
      return held.size
    },
    handoff,
  }
}
