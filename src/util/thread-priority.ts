import { readlinkSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/**
 * Lowers the calling thread's CPU priority by `steps` nice values (at most to 19). Does nothing
 * where that cannot be done: not Linux (where nice is a per-thread value and `/proc/thread-self`
 * names the thread), or refused. Raising a priority needs privileges, lowering one never does.
 *
 * Why a helper thread wants it (docs/scaling.md, "Thread priorities"): on a busy machine with few
 * cores, each time the event loop wakes a helper thread (a batch of requests for the sender) the
 * scheduler tends to run the woken thread at once, on the event loop's core, and the event loop,
 * the part of the process that limits its rate, waits.
 */
export function lowerThreadPriority (steps: number): void {
  if (process.platform !== 'linux' || steps <= 0) return
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + steps))
  } catch {
    // Refused, or no /proc: the thread runs at the priority it has.
  }
}
