import type { Database } from 'better-sqlite3'

/**
 * Per-call ordering (docs/delivery.md): when a delivery of a call ends for good (settled, or
 * failed by an erasure), the next waiting delivery of that call becomes due. Not when the call's
 * earliest pending delivery is already due (e.g. retried by hand).
 */
export function prepareReleaseLane (db: Database): (webhookId: string, orderKey: string, now: number) => number {
  const release = db.prepare<{ webhook: string, key: string, now: number }>(`
    UPDATE deliveries SET next_attempt_at = @now, updated_at = @now
    WHERE id = (SELECT id FROM deliveries INDEXED BY deliveries_order
                WHERE webhook_id = @webhook AND order_key = @key AND status = 'pending' AND order_key IS NOT NULL
                ORDER BY order_seq LIMIT 1)
      AND next_attempt_at IS NULL`)
  return (webhook, key, now) => release.run({ webhook, key, now }).changes
}
