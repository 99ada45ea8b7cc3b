import type { Database } from 'better-sqlite3'
import type { OrderLane } from '../../order-lanes.js'

/**
 * Per-call ordering (docs/delivery.md, src/store/order-lanes.ts): releasing a (webhook, call)
 * queue makes its waiting delivery in the earliest place due, unless one of its pending
 * deliveries is already scheduled (the one in flight or retrying, or one retried by hand). Run
 * when a delivery of the queue ends for good (settled, or failed by an erasure) and when enable
 * or recover put deliveries back into it. Returns how many deliveries were made due.
 */
export function prepareReleaseLane (db: Database): (webhookId: string, orderKey: string, now: number) => number {
  const release = db.prepare<{ webhook: string, key: string, now: number }>(`
    UPDATE deliveries SET next_attempt_at = @now, updated_at = @now
    WHERE id = (SELECT id FROM deliveries INDEXED BY deliveries_order
                WHERE webhook_id = @webhook AND order_key = @key AND order_key IS NOT NULL
                  AND status = 'pending' AND next_attempt_at IS NULL
                ORDER BY order_seq LIMIT 1)
      AND NOT EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_order
                WHERE webhook_id = @webhook AND order_key = @key AND order_key IS NOT NULL
                  AND status = 'pending' AND next_attempt_at IS NOT NULL)`)
  return (webhook, key, now) => release.run({ webhook, key, now }).changes
}

/** prepareReleaseLane over several queues (inside the caller's transaction). */
export function prepareReleaseLanes (db: Database): (lanes: readonly OrderLane[], now: number) => number {
  const releaseLane = prepareReleaseLane(db)
  return (lanes, now) => lanes.reduce((made, lane) => made + releaseLane(lane.webhookId, lane.orderKey, now), 0)
}
