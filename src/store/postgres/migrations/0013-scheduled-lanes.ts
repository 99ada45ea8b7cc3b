/**
 * 0013: deliveries_lane holds the deliveries that have a next attempt (`next_attempt_at IS NOT
 * NULL`) rather than every pending one. Only a pending delivery has one: every statement that
 * ends or parks a delivery sets it to NULL, and one that did not would cost lane claims a step
 * over its entry, never a wrong claim (the status is rechecked). A lane claim reads a webhook's
 * lane by `webhook_id = x AND next_attempt_at <= now`, which stops at the lane's first later row,
 * with its status a recheck (queries/recheck.ts). No condition of it
 * then proves deliveries_due's predicate (`status = 'pending'`), so no plan can walk the due rows
 * of every webhook instead, whatever the statistics — the reason 0012's claims read a lane by
 * `webhook_id >= x AND webhook_id <= x`, which walked each lane to its end when nothing in it was
 * due (docs/performance.md, eleventh round). SQLite's claims name their index (its 0013 changes
 * nothing).
 */
export const migration0013 = {
  version: 13,
  name: 'scheduled-lanes',
  // The new index first (CREATE INDEX blocks writes only), then the old one goes (DROP INDEX
  // locks the table, but only for a moment): claims and reads go on while the index is built.
  sql: `
CREATE INDEX deliveries_lane_next ON deliveries (webhook_id, next_attempt_at, id) WHERE next_attempt_at IS NOT NULL;
DROP INDEX deliveries_lane;
ALTER INDEX deliveries_lane_next RENAME TO deliveries_lane;
`,
} as const
