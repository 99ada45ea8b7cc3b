/**
 * Store.pruneDeliveries and Store.pruneEvents (docs/storage.md, "Retention"): each batch is one
 * short statement. Rows locked by a claim or a settle are skipped (SKIP LOCKED), so retention
 * never waits on delivery and several processes can prune at once.
 */
import type pg from 'pg'
import type { PruneResult } from '../../store.js'

export async function pruneDeliveries (db: pg.Pool, before: Date, limit: number): Promise<PruneResult> {
  const result = await db.query<{ deliveries: number, attempts: number, events: number }>({
    name: 'kejue-prune-deliveries',
    text: `WITH doomed AS (
        SELECT id, workspace_id, event_id FROM deliveries
        WHERE status IN ('succeeded', 'failed') AND updated_at < $1
        ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
      ), gone_attempts AS (
        DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM doomed) RETURNING 1
      ), gone AS (
        DELETE FROM deliveries WHERE id IN (SELECT id FROM doomed) RETURNING workspace_id, event_id
      ), gone_events AS (
        DELETE FROM events AS e USING (SELECT DISTINCT workspace_id, event_id FROM gone) AS g
        WHERE e.workspace_id = g.workspace_id AND e.id = g.event_id
          AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.workspace_id = e.workspace_id AND d.event_id = e.id
            AND d.id NOT IN (SELECT id FROM doomed))
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM gone)::int AS deliveries, (SELECT count(*) FROM gone_attempts)::int AS attempts,
        (SELECT count(*) FROM gone_events)::int AS events`,
    values: [before.getTime(), limit],
  })
  const row = result.rows[0]
  return { deliveries: row?.deliveries ?? 0, attempts: row?.attempts ?? 0, events: row?.events ?? 0 }
}

export async function pruneEvents (db: pg.Pool, before: Date, from: Date | null, limit: number): Promise<{ deleted: number, scanned: number, last: Date | null }> {
  const result = await db.query<{ deleted: number, scanned: number, last: number | null }>({
    name: 'kejue-prune-events',
    text: `WITH scanned AS (
        SELECT workspace_id, id, created_at FROM events
        WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at LIMIT $3
      ), gone AS (
        DELETE FROM events AS e USING scanned AS s
        WHERE e.workspace_id = s.workspace_id AND e.id = s.id
          AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.workspace_id = e.workspace_id AND d.event_id = e.id)
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM scanned)::int AS scanned,
        (SELECT max(created_at) FROM scanned) AS last`,
    values: [from?.getTime() ?? 0, before.getTime(), limit],
  })
  const row = result.rows[0]
  return { deleted: row?.deleted ?? 0, scanned: row?.scanned ?? 0, last: row?.last == null ? null : new Date(Number(row.last)) }
}
