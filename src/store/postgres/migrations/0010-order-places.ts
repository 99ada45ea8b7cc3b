/**
 * 0010: a per-call ordered delivery keeps its place in its call's queue for good (docs/delivery.md,
 * "Per-call ordering"), so that deliveries coming back in bulk — parked ones replayed by enable,
 * failed ones recovered — line up in the order their events were accepted. Same number and meaning
 * as the SQLite migration 0010.
 *
 * - `order_seq` is numbered per (webhook, call) over every delivery of the call, not only the
 *   pending ones (0007 started again at 1 whenever a queue emptied, and gave every delivery parked
 *   while the webhook was disabled the same place). Existing rows are numbered once, here, in
 *   acceptance order: `created_at` (the time the event was accepted), then the old place, then the
 *   time-sortable id.
 * - `deliveries_order` covers every ordered delivery, whatever its status: it gives a call's last
 *   place (a new event takes the next), and its pending deliveries.
 */
export const migration0010 = {
  version: 10,
  name: 'order-places',
  sql: `
DROP INDEX deliveries_order;
UPDATE deliveries d SET order_seq = placed.seq
FROM (SELECT id, row_number() OVER (PARTITION BY webhook_id, order_key ORDER BY created_at, order_seq, id) AS seq
      FROM deliveries WHERE order_key IS NOT NULL) AS placed
WHERE d.id = placed.id AND d.order_seq IS DISTINCT FROM placed.seq;
CREATE INDEX deliveries_order ON deliveries (webhook_id, order_key, order_seq) WHERE order_key IS NOT NULL;
`,
}
