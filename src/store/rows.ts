/**
 * Row → domain mappers that both drivers share: workspaces, keys, events, deliveries, attempts and erasures have
 * the same columns on SQLite and PostgreSQL (times as integer Unix milliseconds). The one
 * difference, booleans (0/1 on SQLite, true/false on PostgreSQL), is absorbed here.
 */
import type { ApiKey, Attempt, Delivery, DeliveryStatus, Erasure, StoredEvent, Workspace } from './store.js'

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
    inline: row.inline === true || row.inline === 1,
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
