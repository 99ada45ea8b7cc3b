import type { SigningMethod } from '../../signing/methods.js'
import type {
  Call, Ordering, ScopeType, Webhook, WebhookFilter,
} from '../store.js'
import { HEALTH_COLUMNS, toHealthFields } from '../rows.js'
import type { HealthRow } from '../rows.js'

/**
 * Row shapes as SQLite returns them (snake_case, times as integer ms, booleans as 0/1) and the
 * mappers to the domain types of store.ts.
 */

export function toMs (date: Date): number {
  return date.getTime()
}

export function fromMs (ms: number): Date {
  return new Date(ms)
}

export function fromMsOrNull (ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}




export interface WebhookRow extends HealthRow {
  id: string
  workspace_id: string
  url: string
  events: string
  name: string | null
  signing_method: string
  secret: string | null
  scope_type: string
  persona_id: string | null
  enabled: number
  job_id: string | null
  timeout_ms: number
  max_retries: number
  backoff_ms: number
  ordering: string
  payload_filter: string | null
  custom_headers: string | null
  rate_limit_per_s: number | null
  retry_schedule_ms: string | null
  created_at: number
  updated_at: number
  previous_secret: string | null
  previous_secret_expires_at: number | null
}

/** The webhook columns, for SELECTs that map to a Webhook (prefix with an alias when joined). */
export const WEBHOOK_COLUMNS = [
  'id', 'workspace_id', 'url', 'events', 'name', 'signing_method', 'secret', 'scope_type',
  'persona_id', 'enabled', 'job_id', 'timeout_ms', 'max_retries', 'backoff_ms', 'ordering',
  'payload_filter', 'custom_headers', 'rate_limit_per_s', 'created_at', 'updated_at',
  'previous_secret', 'previous_secret_expires_at', 'retry_schedule_ms', ...HEALTH_COLUMNS,
] as const

export function toWebhook (row: WebhookRow): Webhook {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    name: row.name,
    // The store writes only values the API validated; the casts restate that.
    signingMethod: row.signing_method as SigningMethod,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: fromMsOrNull(row.previous_secret_expires_at),
    scopeType: row.scope_type as ScopeType,
    personaId: row.persona_id,
    enabled: row.enabled === 1,
    ...toHealthFields(row),
    retryScheduleMs: row.retry_schedule_ms === null ? null : JSON.parse(row.retry_schedule_ms) as number[],
    jobId: row.job_id,
    timeoutMs: row.timeout_ms,
    maxRetries: row.max_retries,
    backoffMs: row.backoff_ms,
    ordering: row.ordering as Ordering,
    filter: row.payload_filter === null ? null : JSON.parse(row.payload_filter) as WebhookFilter,
    headers: row.custom_headers === null ? null : JSON.parse(row.custom_headers) as Record<string, string>,
    rateLimitPerS: row.rate_limit_per_s,
    createdAt: fromMs(row.created_at),
    updatedAt: fromMs(row.updated_at),
  }
}

export interface CallRow {
  workspace_id: string
  job_id: string
  persona_id: string | null
  has_inline_webhooks: number
  created_at: number
}

export function toCall (row: CallRow): Call {
  return {
    workspaceId: row.workspace_id,
    jobId: row.job_id,
    personaId: row.persona_id,
    hasInlineWebhooks: row.has_inline_webhooks === 1,
    createdAt: fromMs(row.created_at),
  }
}



/** SELECT list for DeliveryRow; needs `deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id`. */
export const DELIVERY_SELECT = `d.id, d.workspace_id, d.event_id, d.event_type, d.webhook_id,
  (w.job_id IS NOT NULL) AS inline, d.url, d.status, d.attempt_count, d.max_attempts,
  d.next_attempt_at, d.last_error, d.last_status_code, d.created_at, d.updated_at`

// Workspaces, keys, events, deliveries and attempts map alike on both drivers.
export { toApiKey, toAttempt, toDelivery, toEvent, toWorkspace } from '../rows.js'
export type { ApiKeyRow, AttemptRow, DeliveryRow, EventRow, WorkspaceRow } from '../rows.js'
