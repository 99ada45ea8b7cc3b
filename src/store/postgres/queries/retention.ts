/**
 * Store.pruneDeliveries, Store.pruneEvents and Store.discardParked (docs/storage.md, "Retention"): each batch is one
 * short statement. Rows locked by a claim or a settle are skipped (SKIP LOCKED), so retention
 * never waits on delivery and several processes can prune at once.
 */
import type pg from 'pg'
import { DISCARDED_ERROR } from '../../store.js'
import type { EventKey, PruneResult } from '../../store.js'

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

export async function pruneEvents (db: pg.Pool, before: Date, after: EventKey | null, limit: number): Promise<{ deleted: number, scanned: number, last: EventKey | null }> {
  const result = await db.query<{ deleted: number, scanned: number, last_created_at: number | null, last_workspace_id: string | null, last_id: string | null }>({
    name: 'kejue-prune-events',
    text: `WITH scanned AS (
        SELECT workspace_id, id, created_at FROM events
        WHERE (created_at, workspace_id, id) > ($1, $2, $3) AND created_at < $4
        ORDER BY created_at, workspace_id, id LIMIT $5
      ), last AS (
        SELECT created_at, workspace_id, id FROM scanned ORDER BY created_at DESC, workspace_id DESC, id DESC LIMIT 1
      ), gone AS (
        DELETE FROM events AS e USING scanned AS s
        WHERE e.workspace_id = s.workspace_id AND e.id = s.id
          AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.workspace_id = e.workspace_id AND d.event_id = e.id)
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM scanned)::int AS scanned,
        (SELECT created_at FROM last) AS last_created_at, (SELECT workspace_id FROM last) AS last_workspace_id,
        (SELECT id FROM last) AS last_id`,
    values: [after?.createdAt.getTime() ?? -1, after?.workspaceId ?? '', after?.id ?? '', before.getTime(), limit],
  })
  const row = result.rows[0]
  const last = row?.last_created_at == null || row.last_workspace_id === null || row.last_id === null
    ? null
    : { createdAt: new Date(Number(row.last_created_at)), workspaceId: row.last_workspace_id, id: row.last_id }
  return { deleted: row?.deleted ?? 0, scanned: row?.scanned ?? 0, last }
}

/**
 * Parked deliveries belong to disabled webhooks (deleting a webhook fails them): going through
 * those few webhooks lets (webhook_id, status, id) find them without a scan of all deliveries.
 */
export async function discardParked (db: pg.Pool, before: Date, limit: number, now: Date): Promise<number> {
  const result = await db.query({
    name: 'kejue-discard-parked',
    text: `WITH doomed AS (
        SELECT id FROM deliveries
        WHERE webhook_id IN (SELECT id FROM webhooks WHERE NOT enabled) AND status = 'parked' AND created_at < $1
        LIMIT $2 FOR UPDATE SKIP LOCKED
      )
      UPDATE deliveries AS d SET status = 'failed', next_attempt_at = NULL, last_error = $3, updated_at = $4
      FROM doomed WHERE d.id = doomed.id AND d.status = 'parked'`,
    values: [before.getTime(), limit, DISCARDED_ERROR, now.getTime()],
  })
  return result.rowCount ?? 0
}
