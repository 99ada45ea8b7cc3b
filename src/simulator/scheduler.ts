/**
 * Simulated time. The simulator thinks in realistic durations (a phone rings for 20 s, a
 * conversation lasts 4 min, a retry waits 10 min) and the scheduler runs them `speed` times faster:
 * a task due in `simMs` runs after `simMs / speed` real milliseconds. Timestamps in payloads come
 * from `now()`, which runs `speed` times faster than the wall clock from the scheduler's start, so
 * a campaign that takes 3 s of real time reports an afternoon of calls.
 *
 * The timer source is injected (`TimerClock`): the system clock in the service, a manual clock in
 * unit tests.
 */
import { DEFAULTS } from '../config/defaults.js'
import { systemClock } from '../util/clock.js'
import type { TimerClock } from '../util/clock.js'

export interface SchedulerOptions {
  /**
   * How many times faster than real time the simulation runs.
   * @defaultValue 1
   */
  speed?: number
}

export interface Scheduler {
  readonly speed: number
  /** The simulated time. */
  now (): Date
  /** Runs `task` after `simMs` of simulated time; returns a function that cancels it. */
  after (simMs: number, task: () => void): () => void
  /** Cancels every pending task (service shutdown). */
  stop (): void
}

export function createScheduler (options: SchedulerOptions = {}, deps: { clock?: TimerClock } = {}): Scheduler {
  const clock = deps.clock ?? systemClock
  const speed = options.speed ?? DEFAULTS.simulator.speed
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError('speed must be a positive number')
  const startedAt = clock.now()
  const pending = new Set<unknown>()
  return {
    speed,
    now () {
      return new Date(startedAt + Math.round((clock.now() - startedAt) * speed))
    },
    after (simMs, task) {
      let handle: unknown = null
      handle = clock.setTimer(() => {
        pending.delete(handle)
        task()
      }, Math.max(0, simMs / speed))
      pending.add(handle)
      return () => {
        if (pending.delete(handle)) clock.clearTimer(handle)
      }
    },
    stop () {
      for (const handle of pending) clock.clearTimer(handle)
      pending.clear()
    },
  }
}
