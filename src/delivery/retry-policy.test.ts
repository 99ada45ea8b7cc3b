import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AttemptOutcome } from './outcome.js'
import { MAX_RETRY_DELAY_MS, decideRetry, retryAfterMs } from './retry-policy.js'
import type { RetryDecision } from './retry-policy.js'

const delivered = (statusCode: number): AttemptOutcome => ({ kind: 'delivered', statusCode, durationMs: 5, responseExcerpt: '' })
const rejected = (statusCode: number): AttemptOutcome => ({ kind: 'rejected', statusCode, durationMs: 5, responseExcerpt: '' })
const server = (statusCode: number): AttemptOutcome => ({ kind: 'failed', reason: 'server', statusCode, durationMs: 5, error: `server responded ${statusCode}`, responseExcerpt: '' })
const timeout: AttemptOutcome = { kind: 'failed', reason: 'timeout', statusCode: null, durationMs: 5000, error: 'no complete response within 5000 ms', responseExcerpt: null }
const network: AttemptOutcome = { kind: 'failed', reason: 'network', statusCode: null, durationMs: 1, error: 'connection refused', responseExcerpt: null }
const blockedPrivate: AttemptOutcome = { kind: 'blocked', reason: 'private-address', durationMs: 0, error: 'destination address is not allowed (private, loopback or internal)' }
const blockedUrl: AttemptOutcome = { kind: 'blocked', reason: 'invalid-url', durationMs: 0, error: 'url must use http or https' }

// Defaults (spec "Delivery & Retries"): backoff 500 ms, max_retries 3 → 4 attempts.
const DEFAULT = { maxAttempts: 4, backoffMs: 500 }
const RETRY = (delayMs: number): RetryDecision => ({ retry: true, delayMs })
const SUCCEEDED: RetryDecision = { retry: false, final: 'succeeded' }
const FAILED: RetryDecision = { retry: false, final: 'failed' }

test('decides retries as docs/wire-format.md says (table)', () => {
  const table: Array<[string, AttemptOutcome, number, { maxAttempts: number, backoffMs: number }, RetryDecision]> = [
    ['200 on the first attempt succeeds', delivered(200), 1, DEFAULT, SUCCEEDED],
    ['204 on the last attempt succeeds', delivered(204), 4, DEFAULT, SUCCEEDED],
    ['503 after attempt 1 waits 500 ms', server(503), 1, DEFAULT, RETRY(500)],
    ['500 after attempt 2 waits 1000 ms', server(500), 2, DEFAULT, RETRY(1000)],
    ['502 after attempt 3 waits 2000 ms', server(502), 3, DEFAULT, RETRY(2000)],
    ['503 on attempt 4 of 4 is final', server(503), 4, DEFAULT, FAILED],
    ['a timeout is retried', timeout, 1, DEFAULT, RETRY(500)],
    ['a connection error is retried', network, 2, DEFAULT, RETRY(1000)],
    ['a timeout on the last attempt is final', timeout, 4, DEFAULT, FAILED],
    ['400 is permanent', rejected(400), 1, DEFAULT, FAILED],
    ['404 is permanent', rejected(404), 1, DEFAULT, FAILED],
    ['429 is permanent (a 4xx like any other)', rejected(429), 1, DEFAULT, FAILED],
    ['302 is permanent (redirects are never followed)', rejected(302), 1, DEFAULT, FAILED],
    ['a private address is permanent', blockedPrivate, 1, DEFAULT, FAILED],
    ['an invalid URL is permanent', blockedUrl, 1, DEFAULT, FAILED],
    ['max_retries 0: one attempt only', server(503), 1, { maxAttempts: 1, backoffMs: 500 }, FAILED],
    ['backoff 100 ms doubles', server(503), 3, { maxAttempts: 11, backoffMs: 100 }, RETRY(400)],
    ['a large backoff is capped at one hour', server(503), 10, { maxAttempts: 11, backoffMs: 3_600_000 }, RETRY(MAX_RETRY_DELAY_MS)],
    ['attempt beyond maxAttempts stays final', network, 7, DEFAULT, FAILED],
  ]
  for (const [name, outcome, attempt, settings, expected] of table) {
    assert.deepEqual(decideRetry(outcome, attempt, settings), expected, name)
  }
})

test('the default schedule is 500, 1000, 2000 ms and then failed: four attempts', () => {
  const delays: number[] = []
  let attempt = 1
  for (;;) {
    const decision = decideRetry(server(503), attempt, DEFAULT)
    if (!decision.retry) {
      assert.equal(decision.final, 'failed')
      break
    }
    delays.push(decision.delayMs)
    attempt++
  }
  assert.deepEqual(delays, [500, 1000, 2000])
  assert.equal(attempt, 4)
})

test('jitter only with a random source, and at most 10%', () => {
  assert.deepEqual(decideRetry(server(503), 2, DEFAULT, () => 0), RETRY(1000))
  assert.deepEqual(decideRetry(server(503), 2, DEFAULT, () => 0.5), RETRY(1050))
  assert.deepEqual(decideRetry(server(503), 2, DEFAULT, () => 0.999999), RETRY(1099))
  // A misbehaving source cannot push it past 10%.
  assert.deepEqual(decideRetry(server(503), 2, DEFAULT, () => 7), RETRY(1100))
  assert.deepEqual(decideRetry(server(503), 2, DEFAULT, () => -1), RETRY(1000))
})

test('an attempt number below 1 is a bug and throws', () => {
  assert.throws(() => decideRetry(server(503), 0, DEFAULT), { code: 'INTERNAL' })
  assert.throws(() => decideRetry(server(503), 1.5, DEFAULT), { code: 'INTERNAL' })
})

test('retry_schedule_ms replaces the doubling; a recovered series counts its retries from its first attempt', () => {
  const schedule = { maxAttempts: 4, backoffMs: 500, retryScheduleMs: [60_000, 3_600_000, 86_400_000] }
  assert.deepEqual(decideRetry(server(503), 1, schedule), RETRY(60_000))
  assert.deepEqual(decideRetry(server(503), 3, schedule), RETRY(86_400_000), 'no one-hour cap on a schedule')
  assert.deepEqual(decideRetry(server(503), 4, schedule), FAILED)
  // Attempts 1–4 made, then recovered with 1 + 3 more: attempt 5 is the series' first.
  const recovered = { ...schedule, maxAttempts: 8, firstAttempt: 5 }
  assert.deepEqual(decideRetry(server(503), 5, recovered), RETRY(60_000))
  assert.deepEqual(decideRetry(server(503), 6, { maxAttempts: 8, backoffMs: 500, firstAttempt: 5 }), RETRY(1_000))
})

test('a 503\'s Retry-After: max(scheduled, min(asked, scheduled + 1 h)); bad or past values and other statuses change nothing', () => {
  const at = Date.parse('2026-01-01T00:00:00Z')
  const with503 = (retryAfter: string): AttemptOutcome => ({ ...server(503), retryAfter } as AttemptOutcome)
  const settings = { ...DEFAULT, endedAt: at }
  assert.deepEqual(decideRetry(with503('3'), 1, settings), RETRY(3_000))
  assert.deepEqual(decideRetry(with503('0'), 1, settings), RETRY(500))
  assert.deepEqual(decideRetry(with503('999999'), 1, settings), RETRY(500 + 3_600_000))
  assert.deepEqual(decideRetry(with503('Thu, 01 Jan 2026 00:00:10 GMT'), 1, settings), RETRY(10_000))
  assert.deepEqual(decideRetry(with503('Wed, 31 Dec 2025 23:00:00 GMT'), 1, settings), RETRY(500), 'a date in the past')
  for (const bad of ['soon', '-5', '1.5', '', '2026-01-01T00:00:10Z']) assert.deepEqual(decideRetry(with503(bad), 1, settings), RETRY(500), bad)
  assert.deepEqual(decideRetry(with503('1'), 1, { ...DEFAULT, endedAt: at }, () => 0.999999), RETRY(1_000), 'jitter counts into the scheduled delay')
  assert.deepEqual(decideRetry({ ...server(500), retryAfter: '3' } as AttemptOutcome, 1, settings), RETRY(500), 'only a 503')
  assert.equal(retryAfterMs('120', at), 120_000)
})
