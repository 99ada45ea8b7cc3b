/**
 * Time as a dependency. The service runs on `systemClock`; tests of time-dependent logic (the
 * delivery engine's retry schedule, the simulator's call timelines) run on a manual clock that
 * moves only when told, so they assert exact times instead of timing windows.
 */
export interface TimerClock {
  /** Unix ms. */
  now (): number
  setTimer (callback: () => void, delayMs: number): unknown
  clearTimer (handle: unknown): void
}

export const systemClock: TimerClock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * A clock that moves only when told: for unit tests of the state machines and for running a
 * simulation instantly. `advance(ms)` fires due timers in time order and lets the promise chains
 * they start settle before moving on, so emits made by a timer are observed in order.
 */
export interface ManualClock extends TimerClock {
  advance (ms: number): Promise<void>
  /** Advances until no timer is left (or `limitMs` has passed). */
  runAll (limitMs?: number): Promise<void>
  pendingTimers (): number
}

interface Timer {
  id: number
  at: number
  callback: () => void
}

/** Lets queued microtasks and immediate callbacks run (the emits a timer started). */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

export function createManualClock (startMs = Date.UTC(2025, 0, 15, 10, 0, 0)): ManualClock {
  let now = startMs
  let seq = 0
  const timers = new Map<number, Timer>()

  function nextDue (limit: number): Timer | undefined {
    let best: Timer | undefined
    for (const timer of timers.values()) {
      if (timer.at > limit) continue
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.id < best.id)) best = timer
    }
    return best
  }

  const clock: ManualClock = {
    now: () => now,
    setTimer (callback, delayMs) {
      const id = ++seq
      timers.set(id, { id, at: now + Math.max(0, delayMs), callback })
      return id
    },
    clearTimer (handle) {
      timers.delete(handle as number)
    },
    async advance (ms) {
      const target = now + ms
      await settle()
      for (let timer = nextDue(target); timer !== undefined; timer = nextDue(target)) {
        // Every timer due at this instant fires before the chains they start are let run.
        const at = timer.at
        now = Math.max(now, at)
        for (let same: Timer | undefined = timer; same !== undefined && same.at === at; same = nextDue(at)) {
          timers.delete(same.id)
          same.callback()
        }
        await settle()
      }
      now = target
    },
    async runAll (limitMs = 30 * 24 * 3_600_000) {
      const end = now + limitMs
      await settle()
      while (timers.size > 0 && now < end) {
        const timer = nextDue(end)
        if (timer === undefined) break
        await clock.advance(timer.at - now)
      }
    },
    pendingTimers: () => timers.size,
  }
  return clock
}
