/**
 * A condition that a row found another way (by its primary key, by its event) must still meet
 * (its lease token, its status), written so that the planner cannot use it to find the row. The partial indexes of the queue
 * (deliveries_due: `status = 'pending'`; deliveries_lane: `next_attempt_at IS NOT NULL`) match
 * such conditions, and a table without statistics (a new database, autovacuum off or not yet
 * run) has them estimated at a small share of its rows: the planner then takes those indexes for
 * tiny and finds the rows by walking them — once per id for `id = ANY (…)`, or whole into a hash
 * join — instead of one key lookup each (docs/performance.md, eleventh round). A condition under
 * `IS TRUE` selects the same rows (true, never null) and proves no index's predicate. Wrap the
 * whole conjunction, never a single comparison, which a planner could some day see through.
 */
export function recheck (condition: string): string {
  return `(${condition}) IS TRUE`
}

/**
 * The lease fence of a statement that settles, renews, holds or parks a delivery found by its
 * id: `row` (the delivery's alias) is still pending and leased with `token`.
 */
export function stillLeased (row: string, token: string): string {
  return recheck(`${row}.lease_token = ${token} AND ${row}.status = 'pending'`)
}
