import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HEALTHY } from '../store/store.js'
import type { ClaimedDelivery, SettledAttempt, Webhook } from '../store/store.js'
import { gateFor, newDeliveryState, nextHealth, resolveHealthPolicy } from './endpoint-health.js'

const T = (ms: number): Date => new Date(Date.UTC(2026, 0, 1) + ms)
const policy = resolveHealthPolicy({ breakerCooldownMs: 1_000, autoDisableMinFailures: 3, autoDisableAfterMs: 10_000 })

function webhook (overrides: Partial<Webhook> = {}): Webhook {
  return {
    id: 'wh_1', workspaceId: 'ws_1', url: 'https://example.com/h', events: ['*'], name: null, signingMethod: 'hmac_sha256',
    secret: 's', previousSecret: null, previousSecretExpiresAt: null, ordering: 'none', filter: null, headers: null, rateLimitPerS: null, scopeType: 'global', personaId: null, enabled: true, disabledReason: null, disabledAt: null, health: HEALTHY,
    retryScheduleMs: null, jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500, createdAt: T(0), updatedAt: T(0),
    ...overrides,
  }
}

const fail = (at: number, final: SettledAttempt['final'] = null, statusCode: number | null = 500): SettledAttempt =>
  ({ statusCode, error: 'x', ok: false, final, startedAt: T(at), deliveryCreatedAt: T(0) })
const ok = (at: number): SettledAttempt => ({ statusCode: 200, error: null, ok: true, final: 'succeeded', startedAt: T(at), deliveryCreatedAt: T(0) })

test('the breaker opens at the threshold, doubles its cool-down after a failed probe up to 20×, and a 2xx closes it', () => {
  const four = nextHealth(webhook(), [1, 2, 3, 4].map((t) => fail(t)), policy, T(10))
  assert.equal(four?.health.breaker, 'closed')
  const open = nextHealth(webhook({ health: four?.health ?? HEALTHY }), [fail(5)], policy, T(10))
  assert.equal(open?.health.breaker, 'open')
  assert.deepEqual(open?.health.breakerProbeAt, T(1_010))
  assert.deepEqual(open?.holdUntil, T(1_010))
  let health = open?.health ?? HEALTHY
  for (const expected of [2_000, 4_000, 8_000, 16_000, 20_000, 20_000]) {
    const probed = nextHealth(webhook({ health: { ...health, breaker: 'half_open' } }), [fail(20)], policy, T(100))
    assert.equal(probed?.health.breakerCooldownMs, expected)
    health = probed?.health ?? HEALTHY
  }
  const closed = nextHealth(webhook({ health }), [ok(200)], policy, T(300))
  assert.deepEqual({ ...closed?.health }, { ...HEALTHY, lastSuccessAt: T(200) })
  assert.equal(closed?.releaseHeld, true)
  assert.equal(nextHealth(webhook(), [fail(1), fail(2)], { ...policy, breakerThreshold: 0 }, T(3))?.health.breaker, 'closed', '0 = off')
})

test('a 410 disables ("gone"); enough failed deliveries over the window disable ("failing"); inline and cli webhooks are not tracked', () => {
  assert.equal(nextHealth(webhook(), [fail(1, 'failed', 410)], policy, T(2))?.disable, 'gone')
  const young = nextHealth(webhook(), [fail(1, 'failed'), fail(2, 'failed'), fail(3, 'failed')], policy, T(5_000))
  assert.equal(young?.disable, null, 'the first failure is not old enough')
  assert.equal(young?.health.failedDeliveriesInRow, 3)
  assert.equal(nextHealth(webhook(), [fail(1, 'failed'), fail(2, 'failed'), fail(3, 'failed')], policy, T(10_001))?.disable, 'failing')
  assert.equal(nextHealth(webhook(), [fail(1, 'failed'), ok(2), fail(3, 'failed')], policy, T(20_000))?.health.failedDeliveriesInRow, 1)
  assert.equal(nextHealth(webhook({ jobId: 'job_1' }), [fail(1, 'failed', 410)], policy, T(2)), null)
  assert.equal(nextHealth(webhook({ url: 'cli://cls_1' }), [fail(1, 'failed', 410)], policy, T(2)), null)
  assert.equal(nextHealth(webhook({ enabled: false, disabledReason: 'manual' }), [fail(1, 'failed', 410)], policy, T(2))?.disable, null)
})

test('gates: retries and forced sends go; first attempts wait for the probe; a disabled webhook parks', () => {
  const open = webhook({ health: { ...HEALTHY, breaker: 'open', breakerProbeAt: T(1_000), breakerCooldownMs: 1_000 } })
  const claim = (attempt: number, skipBreaker = false): ClaimedDelivery =>
    ({ deliveryId: 'dlv_1', leaseToken: 't', eventId: 'evt_1', eventType: 'call.ended', body: '{}', attempt, maxAttempts: 4, skipBreaker, webhook: open })
  assert.deepEqual(gateFor(claim(1), open, policy, T(10)), { kind: 'hold', until: T(1_000) })
  assert.deepEqual(gateFor(claim(1), open, policy, T(1_000)), { kind: 'probe' })
  assert.deepEqual(gateFor(claim(2), open, policy, T(10)), { kind: 'send' })
  assert.deepEqual(gateFor(claim(1, true), open, policy, T(10)), { kind: 'send' })
  assert.deepEqual(gateFor(claim(1), open, { ...policy, breakerThreshold: 0 }, T(10)), { kind: 'send' })
  assert.deepEqual(gateFor(claim(3), webhook({ enabled: false, disabledReason: 'gone' }), policy, T(10)), { kind: 'park' })
  assert.deepEqual(newDeliveryState(open, T(10)), { status: 'pending', nextAttemptAt: T(1_000), held: true })
  assert.deepEqual(newDeliveryState(webhook({ enabled: false }), T(10)), { status: 'parked', nextAttemptAt: T(10), held: false })
})

test('a success within a second of the last one changes nothing (the row is not written for it)', () => {
  const healthy = webhook({ health: { ...HEALTHY, lastSuccessAt: T(1_000) } })
  assert.equal(nextHealth(healthy, [ok(1_500)], policy, T(1_600)), null)
  assert.deepEqual(nextHealth(healthy, [ok(2_000)], policy, T(2_100))?.health.lastSuccessAt, T(2_000))
})
