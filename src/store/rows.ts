/**
 * Row → domain mappers that both drivers share: workspaces, keys, webhooks, calls, events,
 * deliveries, attempts and erasures have the same columns on SQLite and PostgreSQL (times as
 * integer Unix milliseconds). The two differences are absorbed here: booleans (0/1 on SQLite,
 * true/false on PostgreSQL) and JSON columns (text on SQLite, parsed jsonb on PostgreSQL).
 */
import type { SigningMethod } from '../signing/methods.js'
import type { ApiKey, Attempt, BreakerState, Call, Delivery, DeliveryStatus, DisabledReason, Erasure, Ordering, ScopeType, StoredEvent, Webhook, WebhookFilter, WebhookHealth, Workspace } from './store.js'

export interface WorkspaceRow { id: string, name: string, created_at: number }

export interface ApiKeyRow {
  id: string
  workspace_id: string | null
  hash: string
  prefix: string
  created_at: number
  revoked_at: number | null
}

export function toWorkspace (row: WorkspaceRow): Workspace {
  return { id: row.id, name: row.name, createdAt: new Date(row.created_at) }
}

export function toApiKey (row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    hash: row.hash,
    prefix: row.prefix,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  }
}

export interface EventRow { workspace_id: string, id: string, type: string, body: string, created_at: number }

export interface DeliveryRow {
  id: string
  workspace_id: string
  event_id: string
  event_type: string
  webhook_id: string
  /** Whether the webhook has a job_id (joined from webhooks): 0/1 on SQLite, boolean on PostgreSQL. */
  inline: boolean | number
  url: string
  status: string
  attempt_count: number
  max_attempts: number
  next_attempt_at: number | null
  last_error: string | null
  last_status_code: number | null
  created_at: number
  updated_at: number
}

export interface AttemptRow {
  id: string
  delivery_id: string
  attempt: number
  started_at: number
  duration_ms: number
  status_code: number | null
  error: string | null
  response_excerpt: string | null
}

export function toEvent (row: EventRow): StoredEvent {
  return { id: row.id, workspaceId: row.workspace_id, type: row.type, body: row.body, createdAt: new Date(row.created_at) }
}

export function toDelivery (row: DeliveryRow): Delivery {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    workspaceId: row.workspace_id,
    webhookId: row.webhook_id,
    inline: flag(row.inline),
    url: row.url,
    status: row.status as DeliveryStatus,
    attemptCount: row.attempt_count,
    maxAttempts: row.max_attempts,
    nextAttemptAt: row.next_attempt_at === null ? null : new Date(row.next_attempt_at),
    lastError: row.last_error,
    lastStatusCode: row.last_status_code,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }
}

export function toAttempt (row: AttemptRow): Attempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    startedAt: new Date(row.started_at),
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    error: row.error,
    responseExcerpt: row.response_excerpt,
  }
}

export interface ErasureRow {
  id: string
  workspace_id: string
  contact_id: string | null
  job_id: string | null
  events_matched: number
  created_at: number
}

export function toErasure (row: ErasureRow): Erasure {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    contactId: row.contact_id,
    jobId: row.job_id,
    eventsMatched: row.events_matched,
    createdAt: new Date(row.created_at),
  }
}

/** The endpoint-health columns of a webhook row (migration 0005), alike on both drivers. */
export interface HealthRow {
  disabled_reason: string | null
  disabled_at: number | null
  consecutive_failures: number
  breaker: string
  breaker_probe_at: number | null
  breaker_cooldown_ms: number
  last_success_at: number | null
  failed_deliveries_in_row: number
  failing_since: number | null
}

export const HEALTH_COLUMNS = [
  'disabled_reason', 'disabled_at', 'consecutive_failures', 'breaker', 'breaker_probe_at',
  'breaker_cooldown_ms', 'last_success_at', 'failed_deliveries_in_row', 'failing_since',
] as const

/** A nullable time column (integer Unix ms) as a Date. */
export function dateOrNull (ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

export function toHealthFields (row: HealthRow): { disabledReason: DisabledReason | null, disabledAt: Date | null, health: WebhookHealth } {
  return {
    // The store writes only the values the CHECK constraints allow; the casts restate that.
    disabledReason: row.disabled_reason as DisabledReason | null,
    disabledAt: dateOrNull(row.disabled_at),
    health: {
      consecutiveFailures: row.consecutive_failures,
      breaker: row.breaker as BreakerState,
      breakerProbeAt: dateOrNull(row.breaker_probe_at),
      breakerCooldownMs: row.breaker_cooldown_ms,
      lastSuccessAt: dateOrNull(row.last_success_at),
      failedDeliveriesInRow: row.failed_deliveries_in_row,
      failingSince: dateOrNull(row.failing_since),
    },
  }
}

/** A health as column values (named like the columns), for UPDATEs on both drivers. */
export function healthParams (health: WebhookHealth): Record<string, number | string | null> {
  return {
    consecutive_failures: health.consecutiveFailures,
    breaker: health.breaker,
    breaker_probe_at: health.breakerProbeAt?.getTime() ?? null,
    breaker_cooldown_ms: health.breakerCooldownMs,
    last_success_at: health.lastSuccessAt?.getTime() ?? null,
    failed_deliveries_in_row: health.failedDeliveriesInRow,
    failing_since: health.failingSince?.getTime() ?? null,
  }
}

/** A boolean column: 0/1 on SQLite, true/false on PostgreSQL. */
function flag (value: boolean | number): boolean {
  return value === true || value === 1
}

/** A JSON column: text on SQLite, already parsed (jsonb) on PostgreSQL. */
function json<T> (value: string | T | null): T | null {
  return typeof value === 'string' ? JSON.parse(value) as T : value
}

export interface WebhookRow extends HealthRow {
  id: string
  workspace_id: string
  url: string
  events: string | string[]
  name: string | null
  signing_method: string
  secret: string | null
  scope_type: string
  persona_id: string | null
  enabled: boolean | number
  job_id: string | null
  timeout_ms: number
  max_retries: number
  backoff_ms: number
  ordering: string
  payload_filter: string | WebhookFilter | null
  custom_headers: string | Record<string, string> | null
  rate_limit_per_s: number | null
  retry_schedule_ms: string | number[] | null
  created_at: number
  updated_at: number
  previous_secret: string | null
  previous_secret_expires_at: number | null
}

export function toWebhook (row: WebhookRow): Webhook {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    url: row.url,
    events: json<string[]>(row.events) ?? [],
    name: row.name,
    // The store writes only values the API validated; the casts restate that.
    signingMethod: row.signing_method as SigningMethod,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: dateOrNull(row.previous_secret_expires_at),
    scopeType: row.scope_type as ScopeType,
    personaId: row.persona_id,
    enabled: flag(row.enabled),
    ...toHealthFields(row),
    retryScheduleMs: json<number[]>(row.retry_schedule_ms),
    jobId: row.job_id,
    timeoutMs: row.timeout_ms,
    maxRetries: row.max_retries,
    backoffMs: row.backoff_ms,
    ordering: row.ordering as Ordering,
    filter: json<WebhookFilter>(row.payload_filter),
    headers: json<Record<string, string>>(row.custom_headers),
    rateLimitPerS: row.rate_limit_per_s,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }
}

export interface CallRow {
  workspace_id: string
  job_id: string
  persona_id: string | null
  has_inline_webhooks: boolean | number
  created_at: number
}

export function toCall (row: CallRow): Call {
  return {
    workspaceId: row.workspace_id,
    jobId: row.job_id,
    personaId: row.persona_id,
    hasInlineWebhooks: flag(row.has_inline_webhooks),
    createdAt: new Date(row.created_at),
  }
}
