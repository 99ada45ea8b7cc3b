/**
 * Whether an attempt is retried, and when (docs/wire-format.md#delivery-policy, spec "Delivery & Retries"). Pure: the
 * engine passes in what happened and how many attempts were made, and schedules the answer.
 *
 * | outcome                                  | decision                                   |
 * |------------------------------------------|--------------------------------------------|
 * | delivered (2xx)                          | stop: succeeded                            |
 * | rejected (3xx, 4xx incl. 429)            | stop: failed (permanent; spec: 4xx is not retried) |
 * | blocked (SSRF guard, bad URL)            | stop: failed (permanent)                   |
 * | failed (5xx, timeout, connection error)  | retry after backoffMs × 2^(n-1), while attempt < maxAttempts |
 *
 * With the defaults (backoff 500 ms, max_retries 3 → 4 attempts) the waits are 500, 1000,
 * 2000 ms, each counted from the end of the failed attempt. A webhook's `retry_schedule_ms`
 * replaces the doubling (retry n waits schedule[n-1]), and a 503's Retry-After can lengthen one
 * wait by up to an hour (docs/delivery.md, "Retry-After").
 */
import { ServiceError } from '../errors.js'
import type { AttemptOutcome } from './outcome.js'

/** No single wait is longer than this, whatever max_retries × backoff_ms would give. */
export const MAX_RETRY_DELAY_MS = 3_600_000

/** Jitter, when a random source is given, adds at most this share of the delay (docs/wire-format.md#delivery-policy). */
export const MAX_JITTER_RATIO = 0.1

/** A Retry-After may lengthen a scheduled wait by at most this. */
export const MAX_RETRY_AFTER_EXTRA_MS = 3_600_000

export interface RetrySettings {
  /** 1 + the webhook's max_retries. */
  maxAttempts: number
  /** The webhook's backoff_ms: the wait before the first retry. */
  backoffMs: number
  /** The webhook's retry_schedule_ms: retry n waits `retryScheduleMs[n-1]` instead of the doubling. */
  retryScheduleMs?: readonly number[] | null
  /**
   * The attempt that began this series of attempts (1; later after a recovery gave the delivery
   * a fresh series, whose attempt numbers go on). Retry n is attempt `firstAttempt + n`.
   * @defaultValue 1
   */
  firstAttempt?: number
  /** When the attempt ended (ms since the epoch): a Retry-After date is counted from it. */
  endedAt?: number
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

  const n = Math.max(1, attempt - (settings.firstAttempt ?? 1) + 1)
  const schedule = settings.retryScheduleMs
  const base = schedule !== undefined && schedule !== null && schedule.length > 0
    ? schedule[Math.min(n, schedule.length) - 1] ?? settings.backoffMs
    // 2^(n-1) overflows to Infinity only far beyond any allowed max_retries; the cap holds anyway.
    : Math.min(settings.backoffMs * 2 ** (n - 1), MAX_RETRY_DELAY_MS)
  const r = random === undefined ? 0 : Math.min(Math.max(random(), 0), 1)
  const scheduled = Math.floor(base * (1 + MAX_JITTER_RATIO * r))
  const asked = outcome.statusCode === 503 && outcome.retryAfter !== undefined
    ? retryAfterMs(outcome.retryAfter, settings.endedAt ?? Date.now())
    : null
  if (asked === null) return { retry: true, delayMs: scheduled }
  return { retry: true, delayMs: Math.max(scheduled, Math.min(asked, scheduled + MAX_RETRY_AFTER_EXTRA_MS)) }
}

/**
 * A Retry-After value in ms from `nowMs`: delay-seconds (digits only) or an HTTP date. Null for
 * a bad value or a date not in the future: it changes nothing then.
 */
export function retryAfterMs (value: string, nowMs: number): number | null {
  const text = value.trim()
  if (/^\d+$/.test(text)) {
    const seconds = Number(text)
    return Number.isSafeInteger(seconds) && seconds > 0 ? seconds * 1000 : null
  }
  // HTTP dates name the day of the week and GMT (RFC 9110 §5.6.7); Date.parse reads them.
  if (!/^[A-Za-z]{3},? /.test(text) && !/GMT$/.test(text)) return null
  const at = Date.parse(text)
  if (Number.isNaN(at) || at <= nowMs) return null
  return at - nowMs
}
