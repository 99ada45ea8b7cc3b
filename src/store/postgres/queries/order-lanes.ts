/**
 * Per-call ordering (docs/delivery.md, src/store/order-lanes.ts): releasing (webhook, call)
 * queues on PostgreSQL.
 */
import type pg from 'pg'
import { orderLaneKey, orderLanesOf } from '../../order-lanes.js'
import type { OrderedRow } from '../../order-lanes.js'
import { lockOrderLanes } from './record-event.js'

// Each queue's waiting delivery in the earliest place becomes due, unless one of its pending
// deliveries is already scheduled (in flight, retrying, or retried by hand).
const RELEASE_SQL = `
UPDATE deliveries d SET next_attempt_at = $3::bigint, updated_at = $3::bigint
FROM (
  SELECT (SELECT x.id FROM deliveries x
          WHERE x.webhook_id = l.webhook_id AND x.order_key = l.order_key
            AND x.status = 'pending' AND x.next_attempt_at IS NULL
          ORDER BY x.order_seq LIMIT 1) AS id
  FROM unnest($1::text[], $2::text[]) AS l(webhook_id, order_key)
  WHERE NOT EXISTS (SELECT 1 FROM deliveries y
          WHERE y.webhook_id = l.webhook_id AND y.order_key = l.order_key
            AND y.status = 'pending' AND y.next_attempt_at IS NOT NULL)
) head
WHERE d.id = head.id AND d.next_attempt_at IS NULL AND d.status = 'pending'
RETURNING d.id`

/**
 * Releases the queues of these rows: run when deliveries of them ended for good (settled, or
 * failed by an erasure) or came back (enable's replay, recover). Inside the caller's transaction,
 * after its writes; takes the queues' locks first (recordEvent takes the same ones), so it sees
 * every delivery committed before and nobody adds to or releases from these queues meanwhile.
 * Returns how many deliveries were made due.
 */
export async function releaseOrderLanes (client: pg.PoolClient, rows: readonly OrderedRow[], now: Date): Promise<number> {
  const lanes = orderLanesOf(rows)
  if (lanes.length === 0) return 0
  await lockOrderLanes(client, lanes.map((lane) => orderLaneKey(lane.webhookId, lane.orderKey)))
  const made = await client.query(RELEASE_SQL, [lanes.map((lane) => lane.webhookId), lanes.map((lane) => lane.orderKey), now.getTime()])
  return made.rowCount ?? 0
}
