/** A node of PostgreSQL's `EXPLAIN (ANALYZE[, BUFFERS], FORMAT JSON)` output, the fields tests read. */
export interface PlanNode {
  'Node Type'?: string
  'Relation Name'?: string
  'Index Name'?: string
  'Index Cond'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  'Rows Removed by Join Filter'?: number
  'Rows Removed by Index Recheck'?: number
  'Shared Hit Blocks'?: number
  'Shared Read Blocks'?: number
  Plans?: PlanNode[]
}

/** The node and all below it, depth first. */
export function flattenPlan (node: PlanNode | undefined): PlanNode[] {
  if (node === undefined) return []
  return [node, ...(node.Plans ?? []).flatMap(flattenPlan)]
}
