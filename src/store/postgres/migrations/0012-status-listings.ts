/**
 * 0012: a workspace's listing without a narrower filter reads its per-status index, one range per
 * status merged newest first (src/store/delivery-filter.ts, `listingRanges`), so
 * `deliveries_workspace` (workspace_id, id) goes: an index fewer that every accepted delivery
 * writes, and that every settlement writes again (it changes indexed columns, so it is never a
 * HOT update). Same number and meaning as the SQLite migration 0012.
 */
export const migration0012 = {
  version: 12,
  name: 'status-listings',
  sql: `
DROP INDEX deliveries_workspace;
`,
}
