/**
 * Per-call ordering (docs/delivery.md, src/store/order-lanes.ts): releasing (webhook, call)
 * queues on PostgreSQL.
 */
import type pg from 'pg'
import { orderLanesOf } from '../../order-lanes.js'
import type { OrderLane, OrderedRow } from '../../order-lanes.js'
import { lockOrderLanes, lockWebhookOrderLanes } from './record-event.js'
import { recheck } from './recheck.js'

// The queues' waiting deliveries in the earliest place, of those queues none of whose pending
// deliveries is scheduled (in flight, retrying, or retried by hand). A queue's rows are read
// whatever their status, through deliveries_order alone: with status = 'pending' as a condition
// the planner may take an index of the webhook's deliveries by status instead
// (deliveries_webhook_status; stale statistics say the webhook has few pending deliveries, e.g.
// right after enable turned its parked ones pending) and read every pending delivery of the
// webhook once per queue.
const HEADS_SQL = `
SELECT lane.head FROM unnest($1::text[], $2::text[]) AS l(webhook_id, order_key)
CROSS JOIN LATERAL (
  SELECT bool_or(x.status = 'pending' AND x.next_attempt_at IS NOT NULL) AS busy,
    (array_agg(x.id ORDER BY x.order_seq) FILTER (WHERE x.status = 'pending' AND x.next_attempt_at IS NULL))[1] AS head
  FROM deliveries x
  WHERE x.webhook_id = l.webhook_id AND x.order_key = l.order_key
) lane
WHERE NOT lane.busy AND lane.head IS NOT NULL`

// Due now. A statement of its own, with the ids as a bound array, so that however stale the
// statistics no plan joins every waiting delivery with every queue.
export const MAKE_DUE_SQL = `
UPDATE deliveries SET next_attempt_at = $2::bigint, updated_at = $2::bigint
WHERE id = ANY ($1::text[]) AND ${recheck("next_attempt_at IS NULL AND status = 'pending'")}`

async function release (client: pg.PoolClient, lanes: readonly OrderLane[], now: Date): Promise<number> {
  const heads = await client.query<{ head: string }>(HEADS_SQL, [lanes.map((lane) => lane.webhookId), lanes.map((lane) => lane.orderKey)])
  if (heads.rows.length === 0) return 0
  const made = await client.query(MAKE_DUE_SQL, [heads.rows.map((row) => row.head), now.getTime()])
  return made.rowCount ?? 0
}

/**
 * Releases the queues of these rows: run when deliveries of them ended for good (settled, or
 * failed by an erasure). Inside the caller's transaction, after its writes; takes the queues'
 * locks first (recordEvent takes the same ones), so it sees every delivery committed before and
 * nobody adds to or releases from these queues meanwhile. Returns how many deliveries were made due.
 */
export async function releaseOrderLanes (client: pg.PoolClient, rows: readonly OrderedRow[], now: Date): Promise<number> {
  const lanes = orderLanesOf(rows)
  if (lanes.length === 0) return 0
  await lockOrderLanes(client, lanes)
  return await release(client, lanes, now)
}

/**
 * releaseOrderLanes for deliveries of one webhook that came back (enable's replay, recover), of
 * any number of calls: under one lock on all the webhook's queues instead of one per call.
 */
export async function releaseWebhookOrderLanes (client: pg.PoolClient, webhookId: string, rows: readonly OrderedRow[], now: Date): Promise<number> {
  const lanes = orderLanesOf(rows)
  if (lanes.length === 0) return 0
  await lockWebhookOrderLanes(client, webhookId)
  return await release(client, lanes, now)
}
