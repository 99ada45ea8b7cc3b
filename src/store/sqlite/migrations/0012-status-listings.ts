import type { Migration } from '../migrations.js'

/**
 * 0012: a workspace's listing without a narrower filter reads its per-status index, one range per
 * status merged newest first (src/store/delivery-filter.ts, `listingRanges`), so
 * `deliveries_by_workspace` (workspace_id, id) goes: a b-tree fewer that every accepted delivery
 * writes (docs/performance.md, eighth round). Anything else that named a workspace's deliveries
 * (counts) reads the status index, whose leading column is the same. Same number and meaning as
 * the PostgreSQL migration 0012.
 */
export const migration0012: Migration = {
  version: 12,
  name: 'status-listings',
  sql: `
DROP INDEX deliveries_by_workspace;
`,
}
