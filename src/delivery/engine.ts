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
 * - Isolation: at most `maxInFlightPerWebhook` requests to one webhook and `maxInFlight` in all.
 *   A webhook holding `2 × maxInFlightPerWebhook + claimBatch` deliveries is left out of the next
 *   claim, so one slow or dead endpoint can never take the slots or the claims the others need.
 * - Settle: outcomes collect in a buffer that one transaction writes at a time (group commit);
 *   results whose lease was lost (fencing) are rejected by the store and dropped here.
 * - Only `send` touches the network and only settling writes attempts.
 */
import { coerceError } from '../errors.js'
import type { AttemptResult, ClaimedDelivery, Settlement, Store } from '../store/store.js'
import { DEFAULTS } from '../config/defaults.js'
import type { AttemptOutcome, HttpSender } from './outcome.js'
import { prepareRequest } from './prepare.js'
import { decideRetry } from './retry-policy.js'

export interface EngineOptions {
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
  /** Names this worker in leases. */
  owner: string
  /** How long outcomes gather before one commit records them all. @defaultValue 25 */
  settleDelayMs: number
}

export interface EngineLogger {
  debug (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export interface EngineMetrics {
  recordAttempt (sample: {
    webhookId: string
    outcome: AttemptOutcome['kind']
    durationMs: number
    final: 'succeeded' | 'failed' | null
  }): void
}

export interface EngineDeps {
  store: Store
  sender: HttpSender
  logger?: EngineLogger
  metrics?: EngineMetrics
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
}

export interface Engine {
  start (): void
  /** Stops claiming, lets requests in flight finish within the grace period, hands back the rest. */
  stop (graceMs?: number): Promise<void>
  /** There may be new work: claim now. */
  wake (): void
  /** Deliveries held by this engine (buffered, sending or settling). */
  held (): number
}

interface Held {
  claim: ClaimedDelivery
  webhookId: string
  sending: boolean
}

const silentLogger: EngineLogger = { debug () {}, warn () {}, error () {} }

export function resolveEngineOptions (options: Partial<EngineOptions> = {}): EngineOptions {
  return {
    maxInFlight: options.maxInFlight ?? DEFAULTS.engine.maxInFlight,
    maxInFlightPerWebhook: options.maxInFlightPerWebhook ?? DEFAULTS.engine.maxInFlightPerWebhook,
    claimBatch: options.claimBatch ?? DEFAULTS.engine.claimBatch,
    leaseMs: options.leaseMs ?? DEFAULTS.engine.leaseMs,
    shutdownGraceMs: options.shutdownGraceMs ?? DEFAULTS.engine.shutdownGraceMs,
    idlePollMs: options.idlePollMs ?? 1_000,
    owner: options.owner ?? `worker-${process.pid}`,
    settleDelayMs: options.settleDelayMs ?? 25,
  }
}

export function createEngine (options: Partial<EngineOptions>, deps: EngineDeps): Engine {
  const opts = resolveEngineOptions(options)
  const { store, sender } = deps
  const logger = deps.logger ?? silentLogger
  const now = deps.now ?? Date.now
  // A webhook holding this many deliveries is left out of claims: its slots, the results
  // waiting for the group commit, and one batch in reserve.
  const heldPerWebhookCap = opts.maxInFlightPerWebhook * 2 + opts.claimBatch
  // Deliveries held at most: enough to keep every slot busy while the next claim runs.
  const maxHeld = opts.maxInFlight * 2

  const held = new Map<string, Held>()
  const heldByWebhook = new Map<string, number>()
  const sendingByWebhook = new Map<string, number>()
  // Buffered deliveries per webhook, in claim order.
  const queues = new Map<string, ClaimedDelivery[]>()
  let sending = 0

  let running = false
  let stopping = false
  let claiming = false
  let pumpAgain = false
  // The last claim stopped at this process's capacity (more may be due): claim again once
  // settlements have made room for a batch.
  let roomLimited = false
  // Some webhook was (or became) full at the last claim: claim again once one has room.
  let webhookLimited = false
  let pumpTimer: NodeJS.Timeout | null = null
  let pumpTimerAt = Infinity
  let heartbeat: NodeJS.Timeout | null = null
  let unsubscribe: (() => void) | null = null

  let results: AttemptResult[] = []
  let flushing: Promise<void> | null = null
  let idleWaiters: Array<() => void> = []

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
    if (pumpTimer !== null) clearTimeout(pumpTimer)
    pumpTimerAt = at
    pumpTimer = setTimeout(() => {
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
      logger.error({ err: coerceError(err) }, 'claiming deliveries failed; trying again')
      schedulePump(opts.idlePollMs)
    } finally {
      claiming = false
    }
  }

  async function claimOnce (): Promise<void> {
    const room = Math.min(opts.claimBatch, maxHeld - held.size)
    if (room <= 0) {
      roomLimited = true
      return
    }
    const excluded = [...heldByWebhook].filter(([, n]) => n >= heldPerWebhookCap).map(([id]) => id)
    const claimed = await store.claimDue({
      now: new Date(now()),
      limit: room,
      leaseMs: opts.leaseMs,
      owner: opts.owner,
      excludeWebhookIds: excluded,
    })
    if (stopping) {
      await store.releaseLeases(claimed)
      return
    }
    let saturated = false
    for (const claim of claimed) saturated = accept(claim) || saturated
    dispatch()
    roomLimited = claimed.length === room && room < opts.claimBatch
    webhookLimited = excluded.length > 0 || saturated
    if (claimed.length === room) {
      // More may be due: claim again at once. A webhook that just filled up is left out of that
      // claim, which steps over its lane without reading its backlog (claimDue), so the others
      // need not wait until a hanging endpoint's requests time out and give back a slot.
      pumpAgain = true
      return
    }
    const nextDue = await store.nextDueAt()
    const untilDue = nextDue === null ? opts.idlePollMs : nextDue.getTime() - now()
    if (untilDue > 0) schedulePump(Math.min(untilDue, opts.idlePollMs))
    // Due now but not claimed: either its webhook is full (release() pumps when it has room),
    // or it became due while this claim ran (a timer a hair early): look again at once.
    else schedulePump(webhookLimited ? opts.idlePollMs : 5)
  }

  /** Holds a claimed delivery; true when its webhook now holds as many as it may. */
  function accept (claim: ClaimedDelivery): boolean {
    const webhookId = claim.webhook?.id ?? `deleted:${claim.deliveryId}`
    held.set(claim.deliveryId, { claim, webhookId, sending: false })
    const queue = queues.get(webhookId)
    if (queue === undefined) queues.set(webhookId, [claim])
    else queue.push(claim)
    return count(heldByWebhook, webhookId, 1) >= heldPerWebhookCap
  }

  /** Starts sends while slots are free, round-robin over webhooks with buffered deliveries. */
  function dispatch (): void {
    let progressed = true
    while (progressed && sending < opts.maxInFlight && !stopping) {
      progressed = false
      for (const [webhookId, queue] of queues) {
        if (sending >= opts.maxInFlight) break
        if ((sendingByWebhook.get(webhookId) ?? 0) >= opts.maxInFlightPerWebhook) continue
        const claim = queue.shift()
        if (queue.length === 0) queues.delete(webhookId)
        if (claim === undefined) continue
        progressed = true
        void attempt(claim, webhookId)
      }
    }
  }

  async function attempt (claim: ClaimedDelivery, webhookId: string): Promise<void> {
    const entry = held.get(claim.deliveryId)
    if (entry !== undefined) entry.sending = true
    sending++
    count(sendingByWebhook, webhookId, 1)
    const startedAt = now()
    let outcome: AttemptOutcome
    if (claim.webhook === null) {
      outcome = { kind: 'blocked', reason: 'webhook-deleted', durationMs: 0, error: 'webhook deleted' }
    } else {
      try {
        outcome = await sender.send(prepareRequest(claim, claim.webhook, startedAt))
      } catch (err) {
        // The sender returns outcomes as values; anything thrown is a bug, kept retryable.
        const error = coerceError(err)
        logger.error({ err: error, deliveryId: claim.deliveryId }, 'sender threw')
        outcome = { kind: 'failed', reason: 'network', statusCode: null, durationMs: now() - startedAt, error: 'internal send error', responseExcerpt: null }
      }
    }
    sending--
    count(sendingByWebhook, webhookId, -1)
    settle(claim, webhookId, startedAt, outcome)
  }

  function settle (claim: ClaimedDelivery, webhookId: string, startedAt: number, outcome: AttemptOutcome): void {
    // Handed back at shutdown: another attempt will be made, this one's result is not ours to record.
    if (!held.has(claim.deliveryId)) return
    const decision = decideRetry(outcome, claim.attempt, {
      maxAttempts: claim.maxAttempts,
      backoffMs: claim.webhook?.backoffMs ?? DEFAULTS.delivery.backoffMs,
    })
    const endedAt = startedAt + outcome.durationMs
    const settlement: Settlement = decision.retry
      ? { status: 'pending', nextAttemptAt: new Date(endedAt + decision.delayMs) }
      : { status: decision.final }
    const statusCode = 'statusCode' in outcome ? outcome.statusCode : null
    const error = 'error' in outcome ? outcome.error : outcome.kind === 'rejected' ? `HTTP ${outcome.statusCode}` : null
    results.push({
      deliveryId: claim.deliveryId,
      leaseToken: claim.leaseToken,
      attempt: {
        attempt: claim.attempt,
        startedAt: new Date(startedAt),
        durationMs: Math.round(outcome.durationMs),
        statusCode,
        error,
        responseExcerpt: 'responseExcerpt' in outcome ? outcome.responseExcerpt : null,
      },
      settlement,
    })
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
    deps.metrics?.recordAttempt({
      // A label per subscription; inline (per-call) and deleted webhooks share one each, so the
      // number of series stays bounded by the number of subscriptions.
      webhookId: claim.webhook === null ? 'deleted' : claim.webhook.jobId !== null ? 'inline' : webhookId,
      outcome: outcome.kind,
      durationMs: outcome.durationMs,
      final: settlement.status === 'pending' ? null : settlement.status,
    })
    scheduleFlush()
    dispatch()
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
    try {
      rejected = (await store.completeAttempts(batch, new Date(now()))).rejected
    } catch (err) {
      // Not recorded: leases keep the deliveries ours until they expire, then they are retried.
      logger.error({ err: coerceError(err), count: batch.length }, 'recording attempts failed')
    }
    if (rejected.length > 0) logger.warn({ deliveryIds: rejected }, 'lease lost before settling; another worker owns these deliveries')
    let earliestRetry = Infinity
    let roomFreed = false
    for (const result of batch) {
      roomFreed = release(result.deliveryId) || roomFreed
      if (result.settlement.status === 'pending') earliestRetry = Math.min(earliestRetry, result.settlement.nextAttemptAt.getTime())
    }
    if (earliestRetry !== Infinity) schedulePump(earliestRetry - now())
    if ((webhookLimited && roomFreed) || (roomLimited && held.size <= maxHeld - opts.claimBatch)) schedulePump(0)
  }

  /** Lets go of a delivery; true when its webhook was full and now has room again. */
  function release (deliveryId: string): boolean {
    const entry = held.get(deliveryId)
    if (entry === undefined) return false
    held.delete(deliveryId)
    return count(heldByWebhook, entry.webhookId, -1) === heldPerWebhookCap - 1
  }

  async function renewLeases (): Promise<void> {
    if (held.size === 0) return
    const items = [...held.values()].map(({ claim }) => claim)
    try {
      const renewed = new Set(await store.renewLeases(items, opts.leaseMs, new Date(now())))
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
      logger.error({ err: coerceError(err) }, 'renewing leases failed')
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
      void pump()
    },

    async stop (graceMs = opts.shutdownGraceMs) {
      if (!running) return
      stopping = true
      unsubscribe?.()
      if (pumpTimer !== null) clearTimeout(pumpTimer)
      pumpTimer = null
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
      running = false
    },

    wake () {
      void pump()
    },

    held () {
      return held.size
    },
  }
}
