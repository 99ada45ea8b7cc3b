/**
 * What one attempt's outcome means for its delivery, as the store records it: the attempt row
 * and the settlement (succeeded, failed, or pending again after the retry policy's wait, counted
 * from the end of the attempt, jitter included). The engine and the `listen` session hub
 * (cli-hub.ts) both settle through this, so a forwarded delivery retries exactly like any other.
 */
import type { AttemptResult } from '../store/store.js'
import { outcomeError } from './outcome.js'
import type { AttemptOutcome } from './outcome.js'
import { decideRetry } from './retry-policy.js'

export interface AttemptContext {
  deliveryId: string
  leaseToken: string
  /** The attempt that was made, 1-based. */
  attempt: number
  maxAttempts: number
  /** The webhook's backoff_ms. */
  backoffMs: number
  /** The webhook's retry_schedule_ms (null: doubling backoff). */
  retryScheduleMs?: readonly number[] | null
  /** The webhook's retries now (the schedule's length, or max_retries): tells where a recovered delivery's fresh series began. */
  retries?: number
  /** When the attempt started, ms since the epoch. */
  startedAt: number
}

export function attemptResult (context: AttemptContext, outcome: AttemptOutcome, random?: () => number): AttemptResult {
  const endedAt = context.startedAt + outcome.durationMs
  // A fresh series (recover) has 1 + retries attempts ending at maxAttempts; attempt numbers go on.
  const firstAttempt = context.retries === undefined ? 1 : Math.max(1, context.maxAttempts - context.retries)
  const decision = decideRetry(outcome, context.attempt, {
    maxAttempts: context.maxAttempts,
    backoffMs: context.backoffMs,
    retryScheduleMs: context.retryScheduleMs,
    firstAttempt,
    endedAt,
  }, random)
  return {
    deliveryId: context.deliveryId,
    leaseToken: context.leaseToken,
    attempt: {
      attempt: context.attempt,
      startedAt: new Date(context.startedAt),
      durationMs: outcome.durationMs,
      statusCode: 'statusCode' in outcome ? outcome.statusCode : null,
      error: outcomeError(outcome),
      responseExcerpt: 'responseExcerpt' in outcome ? outcome.responseExcerpt : null,
    },
    settlement: decision.retry
      ? { status: 'pending', nextAttemptAt: new Date(endedAt + decision.delayMs) }
      : { status: decision.final },
  }
}
