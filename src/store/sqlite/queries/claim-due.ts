import { randomUUID } from 'node:crypto'
import type { Database } from 'better-sqlite3'
import type { ClaimedDelivery, ClaimOptions, Webhook } from '../../store.js'
import { toWebhook, WEBHOOK_COLUMNS } from '../rows.js'
import type { WebhookRow } from '../rows.js'
import { withRelaxedSync } from '../relaxed-sync.js'

interface DueRow {
  id: string
  event_id: string
  event_type: string
  webhook_id: string
  attempt_count: number
  max_attempts: number
  body: string
}

/**
 * Leases a batch of due deliveries in ONE write transaction. `BEGIN IMMEDIATE` takes SQLite's
 * single write lock before the SELECT, so two claimers (threads or processes) never read the same
 * free rows: the second waits (busy_timeout) and then sees the first one's leases.
 * The partial index deliveries_due holds only pending rows in (next_attempt_at, id) order; rows
 * with a live lease are skipped, and there are at most as many of those as attempts in flight.
 */
export function prepareClaimDue (db: Database) {
  const selectDue = db.prepare<{ now: number, limit: number, exclude: string, hub: string | null }, DueRow>(`
    SELECT d.id, d.event_id, d.event_type, d.webhook_id, d.attempt_count, d.max_attempts, e.body
    FROM deliveries d
    JOIN events e ON e.workspace_id = d.workspace_id AND e.id = d.event_id
    WHERE d.status = 'pending'
      AND d.next_attempt_at <= @now
      AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= @now)
      AND d.webhook_id NOT IN (SELECT value FROM json_each(@exclude))
      AND (CASE WHEN @hub IS NULL THEN d.webhook_id NOT IN (SELECT webhook_id FROM cli_sessions)
           ELSE d.webhook_id IN (SELECT webhook_id FROM cli_sessions WHERE hub_id = @hub) END)
    ORDER BY d.next_attempt_at, d.id
    LIMIT @limit`)
  const lease = db.prepare('UPDATE deliveries SET lease_token = ?, lease_owner = ?, lease_expires_at = ? WHERE id = ?')
  const selectWebhook = db.prepare<[string], WebhookRow>(
    `SELECT ${WEBHOOK_COLUMNS.join(', ')} FROM webhooks WHERE id = ? AND deleted_at IS NULL`)

  const claim = db.transaction((options: ClaimOptions): ClaimedDelivery[] => {
    const now = options.now.getTime()
    const expiresAt = now + options.leaseMs
    const rows = selectDue.all({ now, limit: options.limit, exclude: JSON.stringify(options.excludeWebhookIds ?? []), hub: options.cliHubId ?? null })
    // A batch usually goes to few webhooks: read each once.
    const webhooks = new Map<string, Webhook | null>()
    const claimed: ClaimedDelivery[] = []
    for (const row of rows) {
      const leaseToken = randomUUID()
      lease.run(leaseToken, options.owner, expiresAt, row.id)
      let webhook = webhooks.get(row.webhook_id)
      if (webhook === undefined) {
        const found = selectWebhook.get(row.webhook_id)
        webhook = found === undefined ? null : toWebhook(found)
        webhooks.set(row.webhook_id, webhook)
      }
      claimed.push({
        deliveryId: row.id,
        leaseToken,
        eventId: row.event_id,
        eventType: row.event_type,
        body: row.body,
        attempt: row.attempt_count + 1,
        maxAttempts: row.max_attempts,
        webhook,
      })
    }
    return claimed
  })

  return (options: ClaimOptions): ClaimedDelivery[] => {
    if (options.limit <= 0) return []
    return withRelaxedSync(db, () => claim.immediate(options))
  }
}
