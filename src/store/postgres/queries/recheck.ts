/**
 * A condition that a row found by its primary key must still meet (its lease token, its status),
 * written so that the planner cannot use it to find the row. Every partial index of pending
 * deliveries (deliveries_due, deliveries_lane) matches `status = 'pending'`, and a table without
 * statistics (a new database, autovacuum off or not yet run) has that condition estimated at
 * 0.5 % of its rows: the planner then takes those indexes for tiny and finds the rows by walking
 * them — once per id for `id = ANY (…)`, or whole into a hash join — instead of one key lookup
 * each (docs/performance.md, eleventh round). A condition under `IS TRUE` selects the same rows
 * (true, never null) and proves no index's predicate.
 */
export function recheck (condition: string): string {
  return `(${condition}) IS TRUE`
}
