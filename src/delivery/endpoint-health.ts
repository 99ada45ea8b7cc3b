/**
 * The life of an endpoint (docs/delivery.md): the per-webhook breaker, 410 Gone, auto-disable,
 * and what a claimed delivery may do given its webhook's state. Pure rules; the store keeps the
 * health on the webhook row (shared by every worker process) and applies `healthRule` inside the
 * transaction that settles attempts, so concurrent settlers never lose a count.
 *
 * None of it applies to inline (per-call) webhooks or to `listen` sessions' webhooks (cli://):
 * a 410 from those fails that delivery only.
 */
import { DEFAULTS } from '../config/defaults.js'
import type { ClaimedDelivery, HealthRule, HealthUpdate, SettledAttempt, Webhook, WebhookHealth } from '../store/store.js'
import { isCliWebhook } from './cli-hub.js'

export interface HealthPolicy {
  /** Failed attempts in a row that open the breaker; 0 turns the breaker off. @defaultValue 5 */
  breakerThreshold: number
  /** The first cool-down; doubles after each failed probe, up to MAX_COOLDOWN_FACTOR times. @defaultValue 30000 */
  breakerCooldownMs: number
  /** Deliveries in a row that ended failed before auto-disable; 0 turns it off. @defaultValue 20 */
  autoDisableMinFailures: number
  /** …of which the first was created more than this long ago. @defaultValue 432000000 (5 days) */
  autoDisableAfterMs: number
}

/** The longest cool-down, as a multiple of the first. */
export const MAX_COOLDOWN_FACTOR = 20

export function resolveHealthPolicy (policy: Partial<HealthPolicy> = {}): HealthPolicy {
  const d = DEFAULTS.health
  return {
    breakerThreshold: policy.breakerThreshold ?? d.breakerThreshold,
    breakerCooldownMs: policy.breakerCooldownMs ?? d.breakerCooldownMs,
    autoDisableMinFailures: policy.autoDisableMinFailures ?? d.autoDisableMinFailures,
    autoDisableAfterMs: policy.autoDisableAfterMs ?? d.autoDisableAfterMs,
  }
}

/** Whether the breaker, auto-disable and parking apply: workspace subscriptions only. */
export function healthApplies (webhook: Pick<Webhook, 'jobId' | 'url'>): boolean {
  return webhook.jobId === null && !isCliWebhook(webhook)
}

/**
 * `lastSuccessAt` is kept to the second: a healthy endpoint's settlements then write its webhook
 * row about once a second, not once per batch (every worker process settles to the same row).
 */
export const LAST_SUCCESS_RESOLUTION_MS = 1_000

function sameHealth (a: WebhookHealth, b: WebhookHealth): boolean {
  const lastA = a.lastSuccessAt?.getTime() ?? null
  const lastB = b.lastSuccessAt?.getTime() ?? null
  const sameLast = lastA === lastB || (lastA !== null && lastB !== null && Math.abs(lastA - lastB) < LAST_SUCCESS_RESOLUTION_MS)
  return a.consecutiveFailures === b.consecutiveFailures && a.breaker === b.breaker &&
    a.breakerProbeAt?.getTime() === b.breakerProbeAt?.getTime() && a.breakerCooldownMs === b.breakerCooldownMs &&
    sameLast && a.failedDeliveriesInRow === b.failedDeliveriesInRow &&
    a.failingSince?.getTime() === b.failingSince?.getTime()
}

/**
 * The next health of a webhook after some settled attempts (in the order they started):
 * - every non-2xx attempt adds one to consecutiveFailures; a 2xx sets it to 0 and closes the breaker;
 * - closed → open at `breakerThreshold` failures in a row (probe after the cool-down);
 *   half_open (a probe went) → open again on a failure, with the cool-down doubled (≤ 20×);
 * - a 410 disables the webhook ("gone");
 * - deliveries that end failed count in a row (a succeeded one resets), and at
 *   `autoDisableMinFailures` of them, the first created over `autoDisableAfterMs` ago, it is
 *   disabled ("failing").
 */
export function nextHealth (webhook: Webhook, attempts: readonly SettledAttempt[], policy: HealthPolicy, now: Date): HealthUpdate | null {
  if (!healthApplies(webhook)) return null
  const h: WebhookHealth = { ...webhook.health }
  let disable: HealthUpdate['disable'] = null
  let releaseHeld = false
  let holdUntil: Date | null = null
  const nowMs = now.getTime()
  const ordered = [...attempts].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())
  for (const attempt of ordered) {
    if (attempt.ok) {
      h.consecutiveFailures = 0
      if (h.lastSuccessAt === null || h.lastSuccessAt < attempt.startedAt) h.lastSuccessAt = attempt.startedAt
      if (h.breaker !== 'closed') {
        h.breaker = 'closed'
        h.breakerProbeAt = null
        h.breakerCooldownMs = 0
        releaseHeld = true
        holdUntil = null
      }
    } else {
      h.consecutiveFailures++
      if (attempt.statusCode === 410) disable = 'gone'
      if (policy.breakerThreshold > 0 && h.breaker === 'closed' && h.consecutiveFailures >= policy.breakerThreshold) {
        h.breaker = 'open'
        h.breakerCooldownMs = policy.breakerCooldownMs
        h.breakerProbeAt = new Date(nowMs + h.breakerCooldownMs)
        holdUntil = h.breakerProbeAt
      } else if (h.breaker === 'half_open') {
        h.breaker = 'open'
        h.breakerCooldownMs = Math.min(Math.max(h.breakerCooldownMs, policy.breakerCooldownMs) * 2, policy.breakerCooldownMs * MAX_COOLDOWN_FACTOR)
        h.breakerProbeAt = new Date(nowMs + h.breakerCooldownMs)
        // What waited for the failed probe's answer waits for the next probe.
        holdUntil = h.breakerProbeAt
      }
    }
    if (attempt.final === 'succeeded') {
      h.failedDeliveriesInRow = 0
      h.failingSince = null
    } else if (attempt.final === 'failed') {
      if (h.failedDeliveriesInRow === 0 || h.failingSince === null) h.failingSince = attempt.deliveryCreatedAt
      h.failedDeliveriesInRow++
    }
  }
  // The breaker turned off (threshold 0) while open: what it held goes now.
  if (policy.breakerThreshold === 0 && h.breaker !== 'closed') {
    h.breaker = 'closed'
    h.breakerProbeAt = null
    h.breakerCooldownMs = 0
    releaseHeld = true
  }
  if (disable === null && policy.autoDisableMinFailures > 0 && h.failedDeliveriesInRow >= policy.autoDisableMinFailures &&
    h.failingSince !== null && nowMs - h.failingSince.getTime() > policy.autoDisableAfterMs) {
    disable = 'failing'
  }
  if (!webhook.enabled) disable = null
  if (releaseHeld) holdUntil = null
  if (disable === null && !releaseHeld && sameHealth(h, webhook.health)) return null
  return { health: h, disable, releaseHeld, holdUntil }
}

/** The rule the store applies when settling attempts (Store.completeAttempts). */
export function healthRule (policy: HealthPolicy): HealthRule {
  return (webhook, attempts, now) => nextHealth(webhook, attempts, policy, now)
}

/** What the engine does with a claimed delivery before sending it. */
export type Gate =
  | { kind: 'send' }
  /** Its webhook is disabled: park it. */
  | { kind: 'park' }
  /** The breaker's probe is due: send it as the probe if the store grants it, else hold it. */
  | { kind: 'probe' }
  /** The breaker is open: it waits, pending, until the probe time. */
  | { kind: 'hold', until: Date }

/**
 * Only deliveries that have not had a first attempt wait for the breaker: a retry series keeps
 * its schedule exactly. Test sends and manual retries (`skipBreaker`) always go.
 */
export function gateFor (claim: ClaimedDelivery, webhook: Webhook, policy: HealthPolicy, now: Date): Gate {
  if (!healthApplies(webhook) || claim.skipBreaker) return { kind: 'send' }
  if (!webhook.enabled) return { kind: 'park' }
  const { breaker, breakerProbeAt } = webhook.health
  if (policy.breakerThreshold === 0 || breaker === 'closed' || claim.attempt > 1) return { kind: 'send' }
  if (breakerProbeAt === null || breakerProbeAt <= now) return { kind: 'probe' }
  return { kind: 'hold', until: breakerProbeAt }
}

/** How long a half-open breaker waits for its probe before another may go (a prober that died). */
export function probeRetryAt (webhook: Webhook, policy: HealthPolicy, now: Date): Date {
  return new Date(now.getTime() + Math.max(webhook.health.breakerCooldownMs, policy.breakerCooldownMs, webhook.timeoutMs * 2))
}

/**
 * How a new delivery of an event starts (acceptEvent): parked while its webhook is disabled,
 * held until the probe time while its breaker is open, otherwise due at `now`.
 */
export function newDeliveryState (webhook: Webhook, now: Date): { status: 'pending' | 'parked', nextAttemptAt: Date, held: boolean } {
  if (!healthApplies(webhook)) return { status: 'pending', nextAttemptAt: now, held: false }
  if (!webhook.enabled) return { status: 'parked', nextAttemptAt: now, held: false }
  const probeAt = webhook.health.breakerProbeAt
  if (webhook.health.breaker !== 'closed' && probeAt !== null && probeAt > now) return { status: 'pending', nextAttemptAt: probeAt, held: true }
  return { status: 'pending', nextAttemptAt: now, held: false }
}
