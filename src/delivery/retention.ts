/**
 * Retention (docs/storage.md, "Retention"): settled deliveries whose last attempt ended more than
 * `retentionMs` ago are deleted with their attempts, and events left without deliveries after
 * them, in small batches in the background. Each batch is one short store call; between full
 * batches the loop pauses, so claims and settlements always get the store in between and
 * delivery never waits for a prune. Pending deliveries are never touched. Parked deliveries
 * created more than the window ago (they have no attempt to date them by) end failed
 * "discarded" — not a delivery failure: the webhook's health counters stay — and a later pass
 * prunes them like any failed delivery.
 */
import { DEFAULTS } from '../config/defaults.js'
import { coerceError } from '../errors.js'
import type { EventKey, PruneResult, Store } from '../store/store.js'
import { systemClock } from '../util/clock.js'
import type { TimerClock } from '../util/clock.js'

const DAY_MS = 86_400_000

export interface RetentionOptions {
  /** KEJUE_RETENTION_DAYS; 0 keeps everything (the loop does nothing). */
  retentionDays: number
  /** @defaultValue 500 */
  batchSize?: number
  /** @defaultValue 50 */
  batchPauseMs?: number
  /** @defaultValue 60000 */
  idleIntervalMs?: number
}

export interface RetentionDeps {
  store: Store
  /** What "now" is and when the next run starts; a manual clock in tests. @defaultValue systemClock */
  clock?: TimerClock
  logger?: { info (obj: object, msg: string): void, error (obj: object, msg: string): void }
}

export interface Retention {
  start (): void
  stop (): Promise<void>
  /** Prunes until nothing older than the window is left (or `maxBatches`); returns what went. */
  runOnce (maxBatches?: number): Promise<RetentionResult>
}

/** What a run deleted, and how many old parked deliveries it ended as "discarded". */
export interface RetentionResult extends PruneResult {
  discarded: number
}

export function retentionWindowMs (days: number): number {
  return Math.round(days * DAY_MS)
}

/** @example createRetention({ retentionDays: 30 }, { store }).start() */
export function createRetention (options: RetentionOptions, deps: RetentionDeps): Retention {
  const { store } = deps
  const clock = deps.clock ?? systemClock
  const windowMs = retentionWindowMs(options.retentionDays)
  const batchSize = options.batchSize ?? DEFAULTS.retention.batchSize
  const pauseMs = options.batchPauseMs ?? DEFAULTS.retention.batchPauseMs
  const idleMs = options.idleIntervalMs ?? DEFAULTS.retention.idleIntervalMs
  let timer: unknown = null
  let running: Promise<unknown> | null = null
  let stopped = true
  // Where the sweep for events that never had a delivery goes on from; null starts over.
  let eventsAfter: EventKey | null = null

  // A breather for the store between full batches, not a time rule: real time even on a manual clock.
  const pause = async (ms: number): Promise<void> => { if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms)) }

  /** One batch of each kind; true when either was full (more may be left). */
  async function batch (total: RetentionResult): Promise<boolean> {
    const now = clock.now()
    const before = new Date(now - windowMs)
    const discarded = await store.discardParked(before, batchSize, new Date(now))
    total.discarded += discarded
    const pruned = await store.pruneDeliveries(before, batchSize)
    total.deliveries += pruned.deliveries
    total.attempts += pruned.attempts
    total.events += pruned.events
    const swept = await store.pruneEvents(before, eventsAfter, batchSize)
    total.events += swept.deleted
    // A short page reached the end of the window: the next sweep starts over from the oldest.
    eventsAfter = swept.scanned < batchSize ? null : swept.last
    return discarded === batchSize || pruned.deliveries === batchSize || swept.scanned === batchSize
  }

  async function runOnce (maxBatches = Infinity): Promise<RetentionResult> {
    const total: RetentionResult = { deliveries: 0, attempts: 0, events: 0, discarded: 0 }
    if (windowMs <= 0) return total
    for (let i = 0; i < maxBatches; i++) {
      if (!await batch(total)) break
      if (stopped && timer === null && running !== null) break
      await pause(pauseMs)
    }
    return total
  }

  function schedule (delayMs: number): void {
    if (stopped) return
    timer = clock.setTimer(() => {
      timer = null
      running = runOnce()
        .then((total) => {
          if (total.deliveries + total.events + total.discarded > 0) deps.logger?.info({ ...total }, 'retention pruned old deliveries and events')
        })
        .catch((err: unknown) => { deps.logger?.error({ err: coerceError(err) }, 'retention batch failed; trying again later') })
        .finally(() => {
          running = null
          schedule(idleMs)
        })
    }, delayMs)
    // The service's clock gives Node timers: they must not keep a stopping process alive.
    ;(timer as { unref?: () => void } | null)?.unref?.()
  }

  return {
    start () {
      if (windowMs <= 0 || !stopped) return
      stopped = false
      schedule(0)
    },
    async stop () {
      stopped = true
      if (timer !== null) clock.clearTimer(timer)
      timer = null
      await running
    },
    runOnce,
  }
}
