/**
 * claimDue: one statement per batch. The inner SELECT picks due, unleased rows in due order and
 * locks them with FOR UPDATE SKIP LOCKED, so concurrent claimers (other workers, other processes)
 * each get different rows without waiting on each other. The UPDATE then stamps every row with a
 * fresh random lease token (the fencing token) and the lease expiry, and the result carries the
 * event body and the webhook as it is now (null when deleted).
 */
import type pg from 'pg'
import type { ClaimOptions, ClaimedDelivery } from '../../store.js'
import type { WebhookRow } from '../rows.js'
import { toWebhook } from '../rows.js'

interface ClaimRow {
  id: string
  event_id: string
  event_type: string
  attempt_count: number
  max_attempts: number
  lease_token: string
  next_attempt_at: number
  body: string
  webhook: WebhookRow | null
}

const CLAIM_SQL = `
WITH picked AS (
  SELECT id FROM deliveries
  WHERE status = 'pending'
    AND next_attempt_at <= $1
    AND (lease_expires_at IS NULL OR lease_expires_at <= $1)
    AND webhook_id <> ALL ($2::text[])
    AND (CASE WHEN $6::text IS NULL THEN webhook_id NOT IN (SELECT webhook_id FROM cli_sessions)
         ELSE webhook_id IN (SELECT webhook_id FROM cli_sessions WHERE hub_id = $6) END)
  ORDER BY next_attempt_at, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE deliveries d
  SET lease_token = gen_random_uuid()::text, lease_expires_at = $1::bigint + $4::bigint, lease_owner = $5
  FROM picked
  WHERE d.id = picked.id
  RETURNING d.id, d.workspace_id, d.event_id, d.event_type, d.webhook_id, d.attempt_count, d.max_attempts,
    d.lease_token, d.next_attempt_at
)
SELECT c.id, c.event_id, c.event_type, c.attempt_count, c.max_attempts, c.lease_token, c.next_attempt_at,
  e.body, to_jsonb(w) AS webhook
FROM claimed c
JOIN events e ON e.workspace_id = c.workspace_id AND e.id = c.event_id
LEFT JOIN webhooks w ON w.id = c.webhook_id
ORDER BY c.next_attempt_at, c.id`

export async function claimDue (db: pg.Pool, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  const limit = Math.floor(options.limit)
  if (limit <= 0) return []
  const result = await db.query<ClaimRow>(CLAIM_SQL, [
    options.now.getTime(),
    [...(options.excludeWebhookIds ?? [])],
    limit,
    Math.max(0, Math.round(options.leaseMs)),
    options.owner,
    options.cliHubId ?? null,
  ])
  return result.rows.map((row) => ({
    deliveryId: row.id,
    leaseToken: row.lease_token,
    eventId: row.event_id,
    eventType: row.event_type,
    body: row.body,
    attempt: row.attempt_count + 1,
    maxAttempts: row.max_attempts,
    webhook: row.webhook === null ? null : toWebhook(row.webhook),
  }))
}
