/**
 * Rows as PostgreSQL returns them (int8 already parsed to number, see pool.ts) and their mapping
 * to the Store's domain types.
 */
import { HEALTH_COLUMNS } from '../rows.js'

export const WEBHOOK_COLUMNS = `id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
  enabled, job_id, timeout_ms, max_retries, backoff_ms, ordering, payload_filter, custom_headers,
  rate_limit_per_s, created_at, updated_at, previous_secret, previous_secret_expires_at, retry_schedule_ms,
  ${HEALTH_COLUMNS.join(', ')}`

export const DELIVERY_COLUMNS = `id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
  attempt_count, max_attempts, next_attempt_at, last_error, last_status_code, created_at, updated_at`


export function msOrNull (date: Date | null | undefined): number | null {
  return date === null || date === undefined ? null : date.getTime()
}

// Rows map alike on both drivers (src/store/rows.ts).
export { dateOrNull, toApiKey, toAttempt, toCall, toDelivery, toEvent, toWebhook, toWorkspace } from '../rows.js'
export type { ApiKeyRow, AttemptRow, CallRow, DeliveryRow, EventRow, WebhookRow, WorkspaceRow } from '../rows.js'
