import type { Database } from 'better-sqlite3'
import { DISCARDED_ERROR } from '../../store.js'
import type { EventKey, PruneResult } from '../../store.js'
import { withRelaxedSync } from '../relaxed-sync.js'

/**
 * Store.pruneDeliveries, Store.pruneEvents and Store.discardParked (docs/storage.md, "Retention"): one short write
 * transaction per batch, so the engine's claims and settlements get the write lock between
 * batches. Relaxed sync: a batch lost in a power cut is simply deleted again by the next one.
 */
export function prepareRetention (db: Database) {
  const selectSettled = db.prepare<[number, number], { id: string, workspace_id: string, event_id: string }>(`
    SELECT id, workspace_id, event_id FROM deliveries
    WHERE status IN ('succeeded', 'failed') AND updated_at < ? ORDER BY updated_at LIMIT ?`)
  const deleteAttempts = db.prepare<[string]>('DELETE FROM attempts WHERE delivery_id IN (SELECT value FROM json_each(?))')
  const deleteDeliveries = db.prepare<[string]>('DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))')
  // Events named as [workspace_id, id] pairs, deleted when no delivery is left.
  const deleteOrphans = db.prepare<[string]>(`DELETE FROM events WHERE rowid IN (
    SELECT e.rowid FROM json_each(?) AS j
    JOIN events AS e ON e.workspace_id = json_extract(j.value, '$[0]') AND e.id = json_extract(j.value, '$[1]')
    WHERE NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.workspace_id = e.workspace_id AND d.event_id = e.id))`)
  const selectEvents = db.prepare<[number, string, string, number, number], { workspace_id: string, id: string, created_at: number }>(`
    SELECT workspace_id, id, created_at FROM events
    WHERE (created_at, workspace_id, id) > (?, ?, ?) AND created_at < ?
    ORDER BY created_at, workspace_id, id LIMIT ?`)
  // Parked deliveries belong to disabled webhooks (deleting a webhook fails them): going through
  // those few webhooks lets (webhook_id, status, id) find them without a scan of all deliveries.
  const discardOld = db.prepare<[string, number, number, number]>(`
    UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = ?, updated_at = ?
    WHERE id IN (SELECT id FROM deliveries
      WHERE webhook_id IN (SELECT id FROM webhooks WHERE enabled = 0) AND status = 'parked' AND created_at < ?
      LIMIT ?)`)

  const pruneDeliveries = db.transaction((before: number, limit: number): PruneResult => {
    const rows = selectSettled.all(before, limit)
    if (rows.length === 0) return { deliveries: 0, attempts: 0, events: 0 }
    const ids = JSON.stringify(rows.map((r) => r.id))
    const attempts = deleteAttempts.run(ids).changes
    const deliveries = deleteDeliveries.run(ids).changes
    const events = deleteOrphans.run(JSON.stringify(rows.map((r) => [r.workspace_id, r.event_id]))).changes
    return { deliveries, attempts, events }
  })

  const pruneEvents = db.transaction((before: number, after: EventKey | null, limit: number) => {
    const rows = selectEvents.all(after?.createdAt.getTime() ?? -1, after?.workspaceId ?? '', after?.id ?? '', before, limit)
    const deleted = rows.length === 0 ? 0 : deleteOrphans.run(JSON.stringify(rows.map((r) => [r.workspace_id, r.id]))).changes
    const last = rows[rows.length - 1]
    const key: EventKey | null = last === undefined ? null : { createdAt: new Date(last.created_at), workspaceId: last.workspace_id, id: last.id }
    return { deleted, scanned: rows.length, last: key }
  })

  return {
    pruneDeliveries: (before: Date, limit: number): PruneResult =>
      withRelaxedSync(db, () => pruneDeliveries.immediate(before.getTime(), limit)),
    pruneEvents: (before: Date, after: EventKey | null, limit: number) =>
      withRelaxedSync(db, () => pruneEvents.immediate(before.getTime(), after, limit)),
    discardParked: (before: Date, limit: number, now: Date): number =>
      discardOld.run(DISCARDED_ERROR, now.getTime(), before.getTime(), limit).changes,
  }
}
