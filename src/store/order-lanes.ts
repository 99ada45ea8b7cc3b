/**
 * Per-call ordering's queues (docs/delivery.md, "Per-call ordering"), as both drivers name them.
 * A queue is a (webhook, call) pair; its deliveries take places (`order_seq`) in the order their
 * events were accepted, and at most one of its pending deliveries is scheduled (has a
 * `next_attempt_at`) at a time: the others wait with none. Whenever a queue may have lost its
 * scheduled delivery (one settled for good, was erased) or gained waiting ones (enable's replay,
 * recover), the driver *releases* it: when none of its pending deliveries is scheduled, the one
 * in the earliest place is made due. This module holds what is not SQL: which queues to release.
 */

/** One (webhook, call) queue. */
export interface OrderLane {
  webhookId: string
  orderKey: string
}

/** A row of a delivery that may belong to a queue (`order_key` NULL: it does not). */
export interface OrderedRow {
  webhook_id: string
  order_key: string | null
}

/** The lock and dedup key of a queue. */
export function orderLaneKey (webhookId: string, orderKey: string): string {
  return `${webhookId} ${orderKey}`
}

/**
 * The distinct queues of these rows, sorted by key: the order in which PostgreSQL takes their
 * locks, so that two writers never wait on each other in a cycle. Rows of no queue are left out.
 */
export function orderLanesOf (rows: readonly OrderedRow[]): OrderLane[] {
  const lanes = new Map<string, OrderLane>()
  for (const row of rows) {
    if (row.order_key !== null) lanes.set(orderLaneKey(row.webhook_id, row.order_key), { webhookId: row.webhook_id, orderKey: row.order_key })
  }
  return [...lanes.keys()].sort().map((key) => lanes.get(key) as OrderLane)
}
