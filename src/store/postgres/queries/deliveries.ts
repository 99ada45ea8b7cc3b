/** Reading events, deliveries and attempts; retrying a delivery by hand. */
import type pg from 'pg'
import { decodeCursor, encodeCursor } from '../../cursor.js'
import { groupAttempts } from '../../store.js'
import type { Attempt, Delivery, DeliveryFilter, Page, StoredEvent } from '../../store.js'
import type { AttemptRow, DeliveryRow, EventRow } from '../rows.js'
import { DELIVERY_COLUMNS, toAttempt, toDelivery, toEvent } from '../rows.js'
import { deliveryIdRange, listingRanges } from '../../delivery-filter.js'
import { INDEX_SCANS_ONLY, setLocal } from '../pool.js'
import { transaction } from '../transaction.js'
import { recheck } from './recheck.js'

export async function getEvent (db: pg.Pool, workspaceId: string, eventId: string): Promise<StoredEvent | null> {
  // Named (prepared once per connection): acceptEvent reads it for every event posted with an id.
  const result = await db.query<EventRow>({
    name: 'kejue-get-event',
    text: 'SELECT workspace_id, id, type, body, created_at FROM events WHERE workspace_id = $1 AND id = $2',
    values: [workspaceId, eventId],
  })
  const row = result.rows[0]
  return row === undefined ? null : toEvent(row)
}

export async function getDelivery (db: pg.Pool, workspaceId: string, id: string): Promise<Delivery | null> {
  const result = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE workspace_id = $1 AND id = $2`, [workspaceId, id])
  const row = result.rows[0]
  return row === undefined ? null : toDelivery(row)
}

/**
 * The listing statement for a filter: newest first (delivery ids are ULIDs, so id order is
 * creation order), keyset-paged, one more row than the page to tell whether another follows;
 * one index range, or several merged (listingRanges).
 * Exported so that tests can check its plan (EXPLAIN) at scale.
 */
export function listDeliveriesQuery (filter: DeliveryFilter): { text: string, values: unknown[], limit: number } {
  const values: unknown[] = [filter.workspaceId]
  const where = ['workspace_id = $1']
  const add = (sql: string, value: unknown): void => {
    values.push(value)
    where.push(sql.replace('?', `$${values.length}`))
  }
  if (filter.webhookId !== undefined) add('webhook_id = ?', filter.webhookId)
  if (filter.eventId !== undefined) add('event_id = ?', filter.eventId)
  // With a job, a contact or an event the few deliveries of its events are the rows to read: the
  // status is then a recheck (recheck.ts), or without statistics the planner walked the status's
  // range of the workspace newest first, expecting to meet them soon (docs/performance.md,
  // eleventh round).
  const selective = filter.eventId !== undefined || filter.jobId !== undefined || filter.contactId !== undefined
  if (filter.status !== undefined) add(selective ? recheck('status = ?') : 'status = ?', filter.status)
  if (filter.eventType !== undefined) add('event_type = ?', filter.eventType)
  const ranges = listingRanges(filter)
  if (filter.webhookIds !== undefined && ranges.by !== 'webhook') add('webhook_id = ANY(?::text[])', [...filter.webhookIds])
  // The events' own key columns (migration 0009, events/event-keys.ts), each with its index.
  if (filter.jobId !== undefined) add('event_id IN (SELECT e.id FROM events e WHERE e.workspace_id = $1 AND e.job_id = ?)', filter.jobId)
  if (filter.contactId !== undefined) add('event_id IN (SELECT e.id FROM events e WHERE e.workspace_id = $1 AND e.contact_id = ?)', filter.contactId)
  const range = deliveryIdRange(filter)
  if (filter.since !== undefined && range.idFrom !== null) {
    add('id >= ?', range.idFrom)
    add('created_at >= ?', filter.since.getTime())
  }
  if (filter.until !== undefined && range.idTo !== null) {
    add('id < ?', range.idTo)
    add('created_at < ?', filter.until.getTime())
  }
  if (filter.cursor !== undefined) add('id < ?', decodeCursor(filter.cursor))
  const limit = Math.max(1, Math.floor(filter.limit))
  values.push(limit + 1)
  const limitAt = values.length
  const own = ranges.by === 'status'
    ? ranges.statuses.map((status) => `status = '${status}'`)
    : ranges.by === 'webhook'
      ? ranges.ids.map((id) => { values.push(id); return `webhook_id = $${values.length}` })
      : []
  const select = (clause: string | null): string =>
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${[...where, ...(clause === null ? [] : [clause])].join(' AND ')} ORDER BY id DESC LIMIT $${limitAt}`
  return {
    // Several ranges, each at most a page: a Merge Append of their index scans.
    text: own.length <= 1 ? select(own[0] ?? null) : `${own.map((clause) => `(${select(clause)})`).join(' UNION ALL ')} ORDER BY id DESC LIMIT $${limitAt}`,
    values,
    limit,
  }
}

/**
 * A listing reads its index ranges newest first and stops after a page (docs/storage.md,
 * "Delivery search"). Without statistics (a young database, autovacuum off or behind) the
 * planner preferred bitmap scans that read every delivery of the webhook, the status or the
 * whole workspace and sorted them: 200,000 rows and ~160 ms at 200,000 deliveries, growing with
 * the workspace (docs/performance.md, eleventh round). Listings run with plain index scans only.
 */
export const LISTING_SETTINGS = setLocal(INDEX_SCANS_ONLY)

export async function listDeliveries (db: pg.Pool, filter: DeliveryFilter): Promise<Page<Delivery>> {
  if (listingRanges(filter).by === 'none') return { data: [], nextCursor: null }
  const { text, values, limit } = listDeliveriesQuery(filter)
  const result = await transaction(db, async (client) => {
    await client.query(LISTING_SETTINGS)
    return await client.query<DeliveryRow>(text, values)
  })
  const rows = result.rows.slice(0, limit)
  const last = rows[rows.length - 1]
  return {
    data: rows.map(toDelivery),
    nextCursor: result.rows.length > limit && last !== undefined ? encodeCursor(last.id) : null,
  }
}

export async function attemptsOf (db: pg.Pool, deliveryIds: readonly string[]): Promise<Map<string, Attempt[]>> {
  const result = await db.query<AttemptRow>({
    name: 'kejue-attempts-of',
    text: `SELECT id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt
     FROM attempts WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id, attempt, id`,
    values: [[...deliveryIds]],
  })
  return groupAttempts(deliveryIds, result.rows.map(toAttempt))
}

/**
 * Due now for one more attempt: pending again, and allowed exactly one attempt beyond those made,
 * sent even while the webhook's breaker is open.
 * The lease is cleared, so an attempt still in flight is fenced off (its result is rejected) and
 * cannot settle the delivery over the retry.
 */
export async function retryDelivery (
  db: pg.Pool, workspaceId: string, id: string, now: Date,
): Promise<Delivery | null> {
  const result = await db.query<DeliveryRow>(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3,
       max_attempts = attempt_count + 1, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
       held = false, skip_breaker = true
     WHERE workspace_id = $1 AND id = $2
     RETURNING ${DELIVERY_COLUMNS}`,
    [workspaceId, id, now.getTime()])
  const row = result.rows[0]
  return row === undefined ? null : toDelivery(row)
}
