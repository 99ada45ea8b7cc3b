/** Store.findEventsToErase, eraseEvents and getErasure (docs/privacy.md). */
import type pg from 'pg'
import { bulk } from '../pool.js'
import { ERASED_ERROR } from '../../store.js'
import { releaseOrderLanes } from './order-lanes.js'
import type { EraseEventsInput, Erasure, StoredEvent } from '../../store.js'
import { toErasure, toEvent } from '../../rows.js'
import type { ErasureRow, EventRow } from '../../rows.js'
import { transaction } from '../transaction.js'


export async function findEventsToErase (db: pg.Pool, workspaceId: string, match: { contactId: string | null, jobId: string | null }): Promise<StoredEvent[]> {
  // A full read of the workspace's events: erasures are rare, and an index per id path would
  // cost every event written.
  const result = await db.query<EventRow>(bulk(
    `SELECT workspace_id, id, type, body, created_at FROM events
     WHERE workspace_id = $1 AND (
       ($2::text IS NOT NULL AND ((body::jsonb #>> '{data,contact_id}') = $2 OR (body::jsonb #>> '{data,contact,id}') = $2))
       OR ($3::text IS NOT NULL AND ((body::jsonb #>> '{data,job_id}') = $3 OR (body::jsonb #>> '{data,call,id}') = $3)))
     ORDER BY created_at, id`,
    [workspaceId, match.contactId, match.jobId]))
  return result.rows.map(toEvent)
}

export async function eraseEvents (db: pg.Pool, input: EraseEventsInput): Promise<void> {
  const ws = input.erasure.workspaceId
  const ids = input.events.map((e) => e.id)
  await transaction(db, async (client) => {
    await client.query(
      `UPDATE events AS e SET body = v.body FROM unnest($2::text[], $3::text[]) AS v(id, body)
       WHERE e.workspace_id = $1 AND e.id = v.id`,
      [ws, ids, input.events.map((e) => e.body)])
    await client.query(
      `UPDATE attempts SET response_excerpt = NULL WHERE response_excerpt IS NOT NULL
         AND delivery_id IN (SELECT id FROM deliveries WHERE workspace_id = $1 AND event_id = ANY ($2::text[]))`,
      [ws, ids])
    // 'parked' deliveries are held, not sent: they end the same way.
    const ended = await client.query<{ webhook_id: string, order_key: string | null }>(
      `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $3, updated_at = $4,
         lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
       WHERE workspace_id = $1 AND event_id = ANY ($2::text[]) AND status IN ('pending', 'parked')
       RETURNING webhook_id, order_key`,
      [ws, ids, ERASED_ERROR, input.now.getTime()])
    // An erased delivery ends its place in its call's queue: the next one goes (per-call ordering).
    await releaseOrderLanes(client, ended.rows, input.now)
    const e = input.erasure
    await client.query(
      'INSERT INTO erasures (id, workspace_id, contact_id, job_id, events_matched, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.id, ws, e.contactId, e.jobId, e.eventsMatched, e.createdAt.getTime()])
  })
}

export async function getErasure (db: pg.Pool, workspaceId: string, id: string): Promise<Erasure | null> {
  const result = await db.query<ErasureRow>('SELECT * FROM erasures WHERE workspace_id = $1 AND id = $2', [workspaceId, id])
  const row = result.rows[0]
  return row === undefined ? null : toErasure(row)
}
