/**
 * Rows as PostgreSQL returns them (int8 already parsed to number, see pool.ts) and their mapping
 * to the Store's domain types.
 */
import type { SigningMethod } from '../../signing/methods.js'
import type {
  ApiKey, Attempt, Call, Delivery, DeliveryStatus, ScopeType, StoredEvent, Webhook, Workspace,
} from '../store.js'

export interface WorkspaceRow { id: string, name: string, created_at: number }
export interface ApiKeyRow {
  id: string, workspace_id: string | null, hash: string, prefix: string, created_at: number, revoked_at: number | null
}
export interface WebhookRow {
  id: string, workspace_id: string, url: string, events: string[], name: string | null,
  signing_method: string, secret: string | null, scope_type: string, persona_id: string | null,
  enabled: boolean, job_id: string | null, timeout_ms: number, max_retries: number, backoff_ms: number,
  created_at: number, updated_at: number
}
export interface CallRow {
  workspace_id: string, job_id: string, persona_id: string | null, has_inline_webhooks: boolean, created_at: number
}
export interface EventRow { workspace_id: string, id: string, type: string, body: string, created_at: number }
export interface DeliveryRow {
  id: string, workspace_id: string, event_id: string, event_type: string, webhook_id: string,
  inline: boolean, url: string, status: string, attempt_count: number, max_attempts: number,
  next_attempt_at: number | null, last_error: string | null, last_status_code: number | null,
  created_at: number, updated_at: number
}
export interface AttemptRow {
  id: string, delivery_id: string, attempt: number, started_at: number, duration_ms: number,
  status_code: number | null, error: string | null, response_excerpt: string | null
}

export const WEBHOOK_COLUMNS = `id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
  enabled, job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at`

export const DELIVERY_COLUMNS = `id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
  attempt_count, max_attempts, next_attempt_at, last_error, last_status_code, created_at, updated_at`

export function dateOrNull (ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

export function msOrNull (date: Date | null | undefined): number | null {
  return date === null || date === undefined ? null : date.getTime()
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
    revokedAt: dateOrNull(row.revoked_at),
  }
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
    scopeType: row.scope_type as ScopeType,
    personaId: row.persona_id,
    enabled: row.enabled,
    jobId: row.job_id,
    timeoutMs: row.timeout_ms,
    maxRetries: row.max_retries,
    backoffMs: row.backoff_ms,
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
    inline: row.inline,
    url: row.url,
    status: row.status as DeliveryStatus,
    attemptCount: row.attempt_count,
    maxAttempts: row.max_attempts,
    nextAttemptAt: dateOrNull(row.next_attempt_at),
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
