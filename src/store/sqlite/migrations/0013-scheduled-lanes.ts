import type { Migration } from '../migrations.js'

/**
 * 0013: nothing on SQLite. PostgreSQL's 0013 narrows deliveries_lane to deliveries with a next
 * attempt, so that its planner cannot take deliveries_due for a lane; SQLite's claims name their
 * index (`INDEXED BY`). Kept so that both stores stay at one version.
 */
export const migration0013: Migration = {
  version: 13,
  name: 'scheduled-lanes',
  sql: '',
}
