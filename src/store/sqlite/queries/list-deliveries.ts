import type { Database, Statement } from 'better-sqlite3'
import type { Delivery, DeliveryFilter, Page } from '../../store.js'
import { decodeCursor, encodeCursor } from '../../cursor.js'
import { deliveryIdRange, listingRanges } from '../../delivery-filter.js'
import type { ListingRanges } from '../../delivery-filter.js'
import { DELIVERY_SELECT, toDelivery } from '../rows.js'
import type { DeliveryRow } from '../rows.js'
// Job and contact ids are the events' own columns (migration 0009, events/event-keys.ts): a
// job's few events first, then their deliveries by (workspace_id, event_id).
const OPTIONAL_FILTERS = [
  ['webhookId', 'd.webhook_id = @webhookId'],
  ['webhookIds', 'd.webhook_id IN (SELECT value FROM json_each(@webhookIds))'],
  ['eventId', 'd.event_id = @eventId'],
  ['status', 'd.status = @status'],
  ['eventType', 'd.event_type = @eventType'],
  ['jobId', 'd.event_id IN (SELECT e.id FROM events e WHERE e.workspace_id = @workspaceId AND e.job_id = @jobId)'],
  ['contactId', 'd.event_id IN (SELECT e.id FROM events e WHERE e.workspace_id = @workspaceId AND e.contact_id = @contactId)'],
  ['since', 'd.id >= @idFrom AND d.created_at >= @since'],
  ['until', 'd.id < @idTo AND d.created_at < @until'],
  ['cursor', 'd.id < @before'],
] as const

type FilterKey = (typeof OPTIONAL_FILTERS)[number][0]

/**
 * The listing statement for these filters (exported so that tests can check its plan): one index
 * range, or several merged newest first (listingRanges), each at most a page. Ranges by webhook
 * take the ids as @webhook0, @webhook1, …
 */
export function listDeliveriesSql (present: readonly FilterKey[], ranges: ListingRanges): string {
  const clauses = OPTIONAL_FILTERS
    .filter(([key]) => present.includes(key) && !(key === 'webhookIds' && ranges.by === 'webhook'))
    .map(([, sql]) => sql)
  const range = (own: string | null): string => {
    const where = ['d.workspace_id = @workspaceId', ...(own === null ? [] : [own]), ...clauses].join(' AND ')
    return `SELECT ${DELIVERY_SELECT}
        FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
        WHERE ${where} ORDER BY d.id DESC LIMIT @limit`
  }
  const own = ranges.by === 'status'
    ? ranges.statuses.map((status) => `d.status = '${status}'`)
    : ranges.by === 'webhook' ? ranges.ids.map((_, i) => `d.webhook_id = @webhook${i}`) : []
  if (own.length <= 1) return range(own[0] ?? null)
  return `${own.map((clause) => `SELECT * FROM (${range(clause)})`).join(' UNION ALL ')} ORDER BY id DESC LIMIT @limit`
}

/**
 * Newest first by id (ULIDs sort by creation time), keyset-paged: a page is one index range
 * scan (or one per status) whatever its depth. One prepared statement per combination of
 * filters, cached.
 */
export function prepareListDeliveries (db: Database) {
  const statements = new Map<string, Statement<Record<string, unknown>, DeliveryRow>>()

  return (filter: DeliveryFilter): Page<Delivery> => {
    const present = OPTIONAL_FILTERS.filter(([key]) => filter[key] !== undefined)
    const ranges = listingRanges(filter)
    if (ranges.by === 'none') return { data: [], nextCursor: null }
    const cacheKey = `${present.map(([key]) => key).join(',')}/${ranges.by === 'webhook' ? ranges.ids.length : ranges.by}`
    let statement = statements.get(cacheKey)
    if (statement === undefined) {
      statement = db.prepare<Record<string, unknown>, DeliveryRow>(listDeliveriesSql(present.map(([key]) => key), ranges))
      statements.set(cacheKey, statement)
    }
    const limit = Math.max(1, Math.floor(filter.limit))
    const params: Record<string, unknown> = { workspaceId: filter.workspaceId, limit: limit + 1 }
    const range = deliveryIdRange(filter)
    for (const [key] of present) {
      if (key === 'cursor') params.before = decodeCursor(filter.cursor ?? '')
      else if (key === 'webhookIds' && ranges.by === 'webhook') ranges.ids.forEach((id, i) => { params[`webhook${i}`] = id })
      else if (key === 'webhookIds') params.webhookIds = JSON.stringify(filter.webhookIds)
      else if (key === 'since') {
        params.since = filter.since?.getTime()
        params.idFrom = range.idFrom
      } else if (key === 'until') {
        params.until = filter.until?.getTime()
        params.idTo = range.idTo
      } else params[key] = filter[key]
    }
    // One row more than asked tells whether another page exists.
    const rows = statement.all(params)
    const data = rows.slice(0, limit).map(toDelivery)
    const last = data[data.length - 1]
    return { data, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null }
  }
}
