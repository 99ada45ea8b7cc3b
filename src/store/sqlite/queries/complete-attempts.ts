import type { Database } from 'better-sqlite3'
import { withRelaxedSync } from '../relaxed-sync.js'
import { addSettled, storedDurationMs } from '../../store.js'
import { prepareReleaseLane } from './order-lanes.js'
import type { AttemptResult, CompleteResult, HealthChange, HealthRule, SettledAttempt } from '../../store.js'
import { newId } from '../../../util/ids.js'
import { toMs, toWebhook, WEBHOOK_COLUMNS } from '../rows.js'
import type { WebhookRow } from '../rows.js'
import type { prepareEndpointHealth } from './endpoint-health.js'

/**
 * Group commit: every result of a batch is written in ONE transaction (one fsync), which is what
 * makes throughput independent of the per-commit disk latency.
 * Fencing: the delivery is updated only while `lease_token` is still the token the worker
 * claimed with. Once a lease expired and another worker re-claimed (or the delivery was retried
 * or its webhook deleted), the stale result is rejected whole: no attempt row, no status change.
 */
export function prepareCompleteAttempts (db: Database, endpointHealth: ReturnType<typeof prepareEndpointHealth>) {
  // The fence, then the settlement, inside the batch's write transaction (nothing changes the row
  // in between). Not one `UPDATE … RETURNING`: SQLite runs RETURNING through an ephemeral table
  // and with a statement journal, copying every page the update touches (~8 per settlement) into
  // memory first, and opens and closes that table per statement (docs/performance.md, "Ninth round").
  // Positional parameters, as in record-event.ts.
  const fenced = db.prepare<[id: string, token: string], { webhook_id: string, order_key: string | null, created_at: number }>(`
    SELECT webhook_id, order_key, created_at FROM deliveries
    WHERE id = ? AND lease_token = ? AND status = 'pending'`)
  const settle = db.prepare<[status: string, next: number | null, error: string | null, code: number | null, now: number, id: string]>(`
    UPDATE deliveries SET
      status = ?, attempt_count = attempt_count + 1, next_attempt_at = ?,
      last_error = ?, last_status_code = ?, updated_at = ?,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, held = 0
    WHERE id = ?`)
  // Per-call ordering: a settled delivery lets the next of its call go.
  const releaseLane = prepareReleaseLane(db)
  const selectWebhook = db.prepare<[string], WebhookRow>(
    `SELECT ${WEBHOOK_COLUMNS.join(', ')} FROM webhooks WHERE id = ? AND deleted_at IS NULL`)
  const insertAttempt = db.prepare(`INSERT INTO attempts
    (id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt, webhook_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  // Keeps the webhook's "last delivery" and "last error" current, newest attempt wins.
  const touchWebhook = db.prepare(`UPDATE webhooks SET
      last_attempt_at = MAX(COALESCE(last_attempt_at, 0), @startedAt),
      last_error = CASE WHEN @error IS NOT NULL AND COALESCE(last_error_at, 0) <= @errorAt THEN @error ELSE last_error END,
      last_error_at = CASE WHEN @error IS NOT NULL AND COALESCE(last_error_at, 0) <= @errorAt THEN @errorAt ELSE last_error_at END
    WHERE id = @id`)

  const complete = db.transaction((results: readonly AttemptResult[], now: number, rule: HealthRule | undefined): CompleteResult => {
    const rejected: string[] = []
    let released = 0
    const settledByWebhook = new Map<string, SettledAttempt[]>()
    const touched = new Map<string, { startedAt: number, errorAt: number | null, error: string | null }>()
    for (const result of results) {
      const { attempt, settlement } = result
      const error = attempt.error
      const startedAt = toMs(attempt.startedAt)
      const row = fenced.get(result.deliveryId, result.leaseToken)
      if (row === undefined) {
        rejected.push(result.deliveryId)
        continue
      }
      const next = settlement.status === 'pending' ? toMs(settlement.nextAttemptAt) : null
      settle.run(settlement.status, next, error, attempt.statusCode, now, result.deliveryId)
      if (row.order_key !== null && settlement.status !== 'pending') {
        released += releaseLane(row.webhook_id, row.order_key, now)
      }
      insertAttempt.run(
        newId('att'), result.deliveryId, attempt.attempt, startedAt,
        storedDurationMs(attempt.durationMs), attempt.statusCode, attempt.error, attempt.responseExcerpt, row.webhook_id,
      )
      if (rule !== undefined) addSettled(settledByWebhook, row.webhook_id, result, new Date(row.created_at))
      const seen = touched.get(row.webhook_id)
      if (seen === undefined) {
        touched.set(row.webhook_id, { startedAt, errorAt: error === null ? null : startedAt, error })
      } else {
        seen.startedAt = Math.max(seen.startedAt, startedAt)
        if (error !== null && (seen.errorAt === null || startedAt >= seen.errorAt)) {
          seen.errorAt = startedAt
          seen.error = error
        }
      }
    }
    // One webhook row update per webhook per batch, not per attempt.
    for (const [id, seen] of touched) {
      touchWebhook.run({ id, startedAt: seen.startedAt, error: seen.error, errorAt: seen.errorAt })
    }
    const health: HealthChange[] = []
    if (rule !== undefined) {
      for (const [id, settled] of settledByWebhook) {
        const row = selectWebhook.get(id)
        if (row === undefined) continue
        const webhook = toWebhook(row)
        const update = rule(webhook, settled, new Date(now))
        if (update === null) continue
        const after = endpointHealth.apply(webhook, update, now)
        health.push({ webhook: after, disabled: webhook.enabled && !after.enabled })
      }
    }
    return { rejected, released, health }
  })

  return (results: readonly AttemptResult[], now: Date, rule?: HealthRule): CompleteResult => {
    if (results.length === 0) return { rejected: [], released: 0, health: [] }
    // Settlements, like leases, need not be fsynced one by one: one lost in a power cut leaves
    // its delivery pending under an expired lease, so it is attempted again (at least once,
    // docs/wire-format.md#delivery-policy) and never lost. What a producer was told is stored (recordEvent) stays FULL.
    return withRelaxedSync(db, () => complete.immediate(results, toMs(now), rule))
  }
}
