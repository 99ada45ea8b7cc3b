import type { Database } from 'better-sqlite3'
import { withRelaxedSync } from '../relaxed-sync.js'
import { storedDurationMs } from '../../store.js'
import type { AttemptResult } from '../../store.js'
import { newId } from '../../../util/ids.js'
import { toMs } from '../rows.js'

/**
 * Group commit: every result of a batch is written in ONE transaction (one fsync), which is what
 * makes throughput independent of the per-commit disk latency.
 * Fencing: the delivery is updated only while `lease_token` is still the token the worker
 * claimed with. Once a lease expired and another worker re-claimed (or the delivery was retried
 * or its webhook deleted), the stale result is rejected whole: no attempt row, no status change.
 */
export function prepareCompleteAttempts (db: Database) {
  const settle = db.prepare<{
    id: string, token: string, status: string, next: number | null, error: string | null,
    code: number | null, now: number
  }, { webhook_id: string }>(`
    UPDATE deliveries SET
      status = @status, attempt_count = attempt_count + 1, next_attempt_at = @next,
      last_error = @error, last_status_code = @code, updated_at = @now,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE id = @id AND lease_token = @token AND status = 'pending'
    RETURNING webhook_id`)
  const insertAttempt = db.prepare(`INSERT INTO attempts
    (id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt, webhook_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  // Keeps the webhook's "last delivery" and "last error" current, newest attempt wins.
  const touchWebhook = db.prepare(`UPDATE webhooks SET
      last_attempt_at = MAX(COALESCE(last_attempt_at, 0), @startedAt),
      last_error = CASE WHEN @error IS NOT NULL AND COALESCE(last_error_at, 0) <= @errorAt THEN @error ELSE last_error END,
      last_error_at = CASE WHEN @error IS NOT NULL AND COALESCE(last_error_at, 0) <= @errorAt THEN @errorAt ELSE last_error_at END
    WHERE id = @id`)

  const complete = db.transaction((results: readonly AttemptResult[], now: number): string[] => {
    const rejected: string[] = []
    const touched = new Map<string, { startedAt: number, errorAt: number | null, error: string | null }>()
    for (const result of results) {
      const { attempt, settlement } = result
      const error = attempt.error
      const startedAt = toMs(attempt.startedAt)
      const row = settle.get({
        id: result.deliveryId,
        token: result.leaseToken,
        status: settlement.status,
        next: settlement.status === 'pending' ? toMs(settlement.nextAttemptAt) : null,
        error,
        code: attempt.statusCode,
        now,
      })
      if (row === undefined) {
        rejected.push(result.deliveryId)
        continue
      }
      insertAttempt.run(
        newId('att'), result.deliveryId, attempt.attempt, startedAt,
        storedDurationMs(attempt.durationMs), attempt.statusCode, attempt.error, attempt.responseExcerpt, row.webhook_id,
      )
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
    return rejected
  })

  return (results: readonly AttemptResult[], now: Date): { rejected: string[] } => {
    if (results.length === 0) return { rejected: [] }
    // Settlements, like leases, need not be fsynced one by one: one lost in a power cut leaves
    // its delivery pending under an expired lease, so it is attempted again (at least once,
    // docs/wire-format.md#delivery-policy) and never lost. What a producer was told is stored (recordEvent) stays FULL.
    return { rejected: withRelaxedSync(db, () => complete.immediate(results, toMs(now))) }
  }
}
