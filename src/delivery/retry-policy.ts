/**
 * Whether an attempt is retried, and when (docs/wire-format.md#delivery-policy, spec "Delivery & Retries"). Pure: the
 * engine passes in what happened and how many attempts were made, and schedules the answer.
 *
 * | outcome                                  | decision                                   |
 * |------------------------------------------|--------------------------------------------|
 * | delivered (2xx)                          | stop: succeeded                            |
 * | rejected (3xx, 4xx incl. 429)            | stop: failed (permanent; spec: 4xx is not retried) |
 * | blocked (SSRF guard, bad URL)            | stop: failed (permanent)                   |
 * | failed (5xx, timeout, connection error)  | retry after backoffMs × 2^(attempt-1), while attempt < maxAttempts |
 *
 * With the defaults (backoff 500 ms, max_retries 3 → 4 attempts) the waits are 500, 1000,
 * 2000 ms, each counted from the end of the failed attempt.
 */
import { ServiceError } from '../errors.js'
import type { AttemptOutcome } from './outcome.js'

/** No single wait is longer than this, whatever max_retries × backoff_ms would give. */
export const MAX_RETRY_DELAY_MS = 3_600_000

/** Jitter, when a random source is given, adds at most this share of the delay (docs/wire-format.md#delivery-policy). */
export const MAX_JITTER_RATIO = 0.1

export interface RetrySettings {
  /** 1 + the webhook's max_retries. */
  maxAttempts: number
  /** The webhook's backoff_ms: the wait before the first retry. */
  backoffMs: number
}

export type RetryDecision =
  | { retry: true, delayMs: number }
  | { retry: false, final: 'succeeded' | 'failed' }

/**
 * @param attempt the attempt that just ended, 1-based
 * @param random  a source in [0, 1) for jitter; without it the delay is exact
 * @example decideRetry(outcome503, 1, { maxAttempts: 4, backoffMs: 500 }) // { retry: true, delayMs: 500 }
 */
export function decideRetry (
  outcome: AttemptOutcome,
  attempt: number,
  settings: RetrySettings,
  random?: () => number,
): RetryDecision {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new ServiceError('INTERNAL', `attempt must be a positive integer, got ${attempt}`)
  }
  switch (outcome.kind) {
    case 'delivered':
      return { retry: false, final: 'succeeded' }
    case 'rejected':
    case 'blocked':
      return { retry: false, final: 'failed' }
    case 'failed':
      break
  }
  if (attempt >= settings.maxAttempts) return { retry: false, final: 'failed' }

  // 2^(attempt-1) overflows to Infinity only far beyond any allowed max_retries; the cap holds anyway.
  const base = Math.min(settings.backoffMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS)
  if (random === undefined) return { retry: true, delayMs: base }
  const r = Math.min(Math.max(random(), 0), 1)
  return { retry: true, delayMs: Math.floor(base * (1 + MAX_JITTER_RATIO * r)) }
}
