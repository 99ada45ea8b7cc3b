/**
 * Store rows → API shapes (docs/api.md). Rows are never sent as they are: this is where field
 * names become snake_case, dates ISO-8601, and secrets are left out.
 */
import type { Static } from '@sinclair/typebox'
import type { Envelope } from '../events/envelope.js'
import { previousSecretInUse } from '../delivery/secret-rotation.js'
import type { ApiKey, Attempt, Delivery, Webhook, WebhookStats, Workspace } from '../store/store.js'
import type { DeliveryObject } from './schemas/deliveries.js'
import { attemptRequestHeaders } from './attempt-headers.js'
import type { WebhookObject } from './schemas/webhooks.js'

function iso (date: Date): string
function iso (date: Date | null): string | null
function iso (date: Date | null): string | null {
  return date === null ? null : date.toISOString()
}

/** Percent of finished deliveries that succeeded, one decimal; null before any finished. */
export function successRate (stats: WebhookStats | undefined): number | null {
  if (stats === undefined) return null
  const finished = stats.succeededDeliveries + stats.failedDeliveries
  if (finished === 0) return null
  return Math.round((stats.succeededDeliveries / finished) * 1000) / 10
}

export function presentWebhook (webhook: Webhook, stats: WebhookStats | undefined, nowMs: number = Date.now()): Static<typeof WebhookObject> {
  const rotating = previousSecretInUse(webhook, nowMs) !== null
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.events,
    name: webhook.name,
    signing_method: webhook.signingMethod,
    scope_type: webhook.scopeType,
    persona_id: webhook.personaId,
    enabled: webhook.enabled,
    disabled_reason: webhook.disabledReason,
    disabled_at: iso(webhook.disabledAt),
    health: {
      consecutive_failures: webhook.health.consecutiveFailures,
      breaker: webhook.health.breaker,
      last_success_at: iso(webhook.health.lastSuccessAt),
    },
    retry_schedule_ms: webhook.retryScheduleMs,
    delivery_settings: {
      timeout_ms: webhook.timeoutMs,
      // With a retry schedule, max_retries reads as its length (docs/delivery.md).
      max_retries: webhook.retryScheduleMs?.length ?? webhook.maxRetries,
      backoff_ms: webhook.backoffMs,
    },
    stats: {
      total_deliveries: stats?.totalDeliveries ?? 0,
      failed_deliveries: stats?.failedDeliveries ?? 0,
      success_rate: successRate(stats),
      parked_deliveries: stats?.parkedDeliveries ?? 0,
    },
    ordering: webhook.ordering,
    filter: webhook.filter,
    headers: webhook.headers,
    rate_limit_per_s: webhook.rateLimitPerS,
    last_delivery_at: iso(stats?.lastDeliveryAt ?? null),
    last_error: stats?.lastError ?? null,
    created_at: iso(webhook.createdAt),
    updated_at: iso(webhook.updatedAt),
    secret_rotation: rotating && webhook.previousSecretExpiresAt !== null
      ? { previous_secret_expires_at: iso(webhook.previousSecretExpiresAt) }
      : null,
  }
}

export function presentAttempt (attempt: Attempt, delivery?: Delivery, webhook?: Webhook | null): Static<typeof DeliveryObject>['attempts'][number] {
  return {
    attempt: attempt.attempt,
    started_at: iso(attempt.startedAt),
    duration_ms: attempt.durationMs,
    status_code: attempt.statusCode,
    error: attempt.error,
    response_excerpt: attempt.responseExcerpt,
    request_headers: delivery === undefined || webhook == null ? null : attemptRequestHeaders(delivery, attempt, webhook),
  }
}

/** `webhook`: the delivery's webhook as it is now, to show each attempt's request headers (null: deleted). */
export function presentDelivery (delivery: Delivery, attempts: readonly Attempt[], webhook?: Webhook | null): Static<typeof DeliveryObject> {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    event: delivery.eventType,
    // Inline (per-call) webhooks are not API objects (docs/api.md: null for an inline webhook).
    webhook_id: delivery.inline ? null : delivery.webhookId,
    url: delivery.url,
    status: delivery.status,
    attempts: [...attempts].sort((a, b) => a.attempt - b.attempt).map((a) => presentAttempt(a, delivery, webhook)),
    attempt_count: delivery.attemptCount,
    max_attempts: delivery.maxAttempts,
    next_attempt_at: delivery.status === 'pending' ? iso(delivery.nextAttemptAt) : null,
    last_error: delivery.lastError,
    created_at: iso(delivery.createdAt),
    updated_at: iso(delivery.updatedAt),
  }
}

export function presentWorkspace (workspace: Workspace): { id: string, name: string, created_at: string } {
  return { id: workspace.id, name: workspace.name, created_at: iso(workspace.createdAt) }
}

export function presentApiKey (key: ApiKey): { id: string, workspace_id: string | null, prefix: string, created_at: string, revoked_at: string | null } {
  return {
    id: key.id,
    workspace_id: key.workspaceId,
    prefix: key.prefix,
    created_at: iso(key.createdAt),
    revoked_at: iso(key.revokedAt),
  }
}

/** The stored body is the envelope exactly as sent; parse it back for GET /events/{id}. */
export function parseEnvelope (body: string): Envelope<string> {
  return JSON.parse(body) as Envelope<string>
}
