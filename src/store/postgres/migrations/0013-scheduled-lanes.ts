/**
 * 0013: deliveries_lane holds the deliveries that have a next attempt (`next_attempt_at IS NOT
 * NULL`: pending and scheduled, as only pending deliveries are) rather than every pending one. A
 * lane claim reads a webhook's lane by `webhook_id = x AND next_attempt_at <= now`, which stops at
 * the lane's first later row, with its status a recheck (queries/recheck.ts). No condition of it
 * then proves deliveries_due's predicate (`status = 'pending'`), so no plan can walk the due rows
 * of every webhook instead, whatever the statistics — the reason 0012's claims read a lane by
 * `webhook_id >= x AND webhook_id <= x`, which walked each lane to its end when nothing in it was
 * due (docs/performance.md, eleventh round). SQLite's claims name their index (its 0013 changes
 * nothing).
 */
export const migration0013 = {
  version: 13,
  name: 'scheduled-lanes',
  sql: `
DROP INDEX deliveries_lane;
CREATE INDEX deliveries_lane ON deliveries (webhook_id, next_attempt_at, id) WHERE next_attempt_at IS NOT NULL;
`,
} as const
