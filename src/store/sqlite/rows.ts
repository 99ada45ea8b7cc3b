import { HEALTH_COLUMNS } from '../rows.js'

/**
 * SQLite's column lists and time helpers; the row shapes and their mappers to the domain types
 * are shared with PostgreSQL (src/store/rows.ts).
 */

export function toMs (date: Date): number {
  return date.getTime()
}

export function fromMs (ms: number): Date {
  return new Date(ms)
}

/** The webhook columns, for SELECTs that map to a Webhook (prefix with an alias when joined). */
export const WEBHOOK_COLUMNS = [
  'id', 'workspace_id', 'url', 'events', 'name', 'signing_method', 'secret', 'scope_type',
  'persona_id', 'enabled', 'job_id', 'timeout_ms', 'max_retries', 'backoff_ms', 'ordering',
  'payload_filter', 'custom_headers', 'rate_limit_per_s', 'created_at', 'updated_at',
  'previous_secret', 'previous_secret_expires_at', 'retry_schedule_ms', ...HEALTH_COLUMNS,
] as const

/** SELECT list for DeliveryRow; needs `deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id`. */
export const DELIVERY_SELECT = `d.id, d.workspace_id, d.event_id, d.event_type, d.webhook_id,
  (w.job_id IS NOT NULL) AS inline, d.url, d.status, d.attempt_count, d.max_attempts,
  d.next_attempt_at, d.last_error, d.last_status_code, d.created_at, d.updated_at`

// Rows map alike on both drivers (src/store/rows.ts).
export { dateOrNull as fromMsOrNull, toApiKey, toAttempt, toCall, toDelivery, toEvent, toWebhook, toWorkspace } from '../rows.js'
export type { ApiKeyRow, AttemptRow, CallRow, DeliveryRow, EventRow, WebhookRow, WorkspaceRow } from '../rows.js'
