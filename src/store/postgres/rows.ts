/**
 * Rows as PostgreSQL returns them (int8 already parsed to number, see pool.ts) and their mapping
 * to the Store's domain types.
 */
import type { SigningMethod } from '../../signing/methods.js'
import type {
  Call, Ordering, ScopeType, Webhook, WebhookFilter,
} from '../store.js'
import { HEALTH_COLUMNS, toHealthFields } from '../rows.js'
import type { HealthRow } from '../rows.js'

export interface WebhookRow extends HealthRow {
  retry_schedule_ms: number[] | null
  id: string, workspace_id: string, url: string, events: string[], name: string | null,
  signing_method: string, secret: string | null, scope_type: string, persona_id: string | null,
  enabled: boolean, job_id: string | null, timeout_ms: number, max_retries: number, backoff_ms: number,
  ordering: string, payload_filter: WebhookFilter | null, custom_headers: Record<string, string> | null,
  rate_limit_per_s: number | null, created_at: number, updated_at: number, previous_secret: string | null,
  previous_secret_expires_at: number | null
}
export interface CallRow {
  workspace_id: string, job_id: string, persona_id: string | null, has_inline_webhooks: boolean, created_at: number
}

export const WEBHOOK_COLUMNS = `id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
  enabled, job_id, timeout_ms, max_retries, backoff_ms, ordering, payload_filter, custom_headers,
  rate_limit_per_s, created_at, updated_at, previous_secret, previous_secret_expires_at, retry_schedule_ms,
  ${HEALTH_COLUMNS.join(', ')}`

export const DELIVERY_COLUMNS = `id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
  attempt_count, max_attempts, next_attempt_at, last_error, last_status_code, created_at, updated_at`

export function dateOrNull (ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

export function msOrNull (date: Date | null | undefined): number | null {
  return date === null || date === undefined ? null : date.getTime()
}



export function toWebhook (row: WebhookRow): Webhook {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    url: row.url,
    events: row.events,
    name: row.name,
    signingMethod: row.signing_method as SigningMethod,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: dateOrNull(row.previous_secret_expires_at),
    scopeType: row.scope_type as ScopeType,
    personaId: row.persona_id,
    enabled: row.enabled,
    ...toHealthFields(row),
    retryScheduleMs: row.retry_schedule_ms,
    jobId: row.job_id,
    timeoutMs: row.timeout_ms,
    maxRetries: row.max_retries,
    backoffMs: row.backoff_ms,
    ordering: row.ordering as Ordering,
    filter: row.payload_filter,
    headers: row.custom_headers,
    rateLimitPerS: row.rate_limit_per_s,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }
}

export function toCall (row: CallRow): Call {
  return {
    workspaceId: row.workspace_id,
    jobId: row.job_id,
    personaId: row.persona_id,
    hasInlineWebhooks: row.has_inline_webhooks,
    createdAt: new Date(row.created_at),
  }
}

// Workspaces, keys, events, deliveries and attempts map alike on both drivers.
export { toApiKey, toAttempt, toDelivery, toEvent, toWorkspace } from '../rows.js'
export type { ApiKeyRow, AttemptRow, DeliveryRow, EventRow, WorkspaceRow } from '../rows.js'
