import type { Database } from 'better-sqlite3'
import { groupAttempts } from '../../store.js'
import type { Attempt, Delivery, StoredEvent } from '../../store.js'
import { DELIVERY_SELECT, toAttempt, toDelivery, toEvent } from '../rows.js'
import type { AttemptRow, DeliveryRow, EventRow } from '../rows.js'

/** Reading one event or delivery, its attempts, and the manual retry. */
export function prepareDeliveries (db: Database) {
  const selectEvent = db.prepare<[string, string], EventRow>(
    'SELECT workspace_id, id, type, body, created_at FROM events WHERE workspace_id = ? AND id = ?')
  const selectDelivery = db.prepare<[string, string], DeliveryRow>(`SELECT ${DELIVERY_SELECT}
    FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.id = ? AND d.workspace_id = ?`)
  const selectAttempts = db.prepare<[string], AttemptRow>(
    'SELECT * FROM attempts WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY delivery_id, attempt, id')
  // A manual retry is one more attempt: max_attempts = attempt_count + 1, sent even while the
  // webhook's breaker is open. Clearing the lease fences off a worker still holding the delivery.
  const retry = db.prepare(`UPDATE deliveries SET
      status = 'pending', next_attempt_at = @now, max_attempts = attempt_count + 1, updated_at = @now,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, held = 0, skip_breaker = 1
    WHERE id = @id AND workspace_id = @workspaceId`)

  function getDelivery (workspaceId: string, id: string): Delivery | null {
    const row = selectDelivery.get(id, workspaceId)
    return row === undefined ? null : toDelivery(row)
  }

  const retryTx = db.transaction((workspaceId: string, id: string, now: number): Delivery | null => {
    if (retry.run({ id, workspaceId, now }).changes === 0) return null
    return getDelivery(workspaceId, id)
  })

  return {
    getEvent (workspaceId: string, eventId: string): StoredEvent | null {
      const row = selectEvent.get(workspaceId, eventId)
      return row === undefined ? null : toEvent(row)
    },
    getDelivery,
    attemptsOf (deliveryIds: readonly string[]): Map<string, Attempt[]> {
      return groupAttempts(deliveryIds, selectAttempts.all(JSON.stringify(deliveryIds)).map(toAttempt))
    },
    retryDelivery (workspaceId: string, id: string, now: Date): Delivery | null {
      return retryTx.immediate(workspaceId, id, now.getTime())
    },
  }
}
