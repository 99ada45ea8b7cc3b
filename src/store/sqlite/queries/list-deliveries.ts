import type { Database, Statement } from 'better-sqlite3'
import type { Delivery, DeliveryFilter, Page } from '../../store.js'
import { decodeCursor, encodeCursor } from '../../cursor.js'
import { DELIVERY_SELECT, toDelivery } from '../rows.js'
import type { DeliveryRow } from '../rows.js'

const OPTIONAL_FILTERS = [
  ['webhookId', 'd.webhook_id = @webhookId'],
  ['eventId', 'd.event_id = @eventId'],
  ['status', 'd.status = @status'],
  ['eventType', 'd.event_type = @eventType'],
  ['cursor', 'd.id < @before'],
] as const

/**
 * Newest first by id (ULIDs sort by creation time), keyset-paged: a page is one index range
 * scan whatever its depth. One prepared statement per combination of filters, cached.
 */
export function prepareListDeliveries (db: Database) {
  const statements = new Map<string, Statement<Record<string, unknown>, DeliveryRow>>()

  return (filter: DeliveryFilter): Page<Delivery> => {
    const present = OPTIONAL_FILTERS.filter(([key]) => filter[key] !== undefined)
    const cacheKey = present.map(([key]) => key).join(',')
    let statement = statements.get(cacheKey)
    if (statement === undefined) {
      const where = ['d.workspace_id = @workspaceId', ...present.map(([, sql]) => sql)].join(' AND ')
      statement = db.prepare<Record<string, unknown>, DeliveryRow>(`SELECT ${DELIVERY_SELECT}
        FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
        WHERE ${where} ORDER BY d.id DESC LIMIT @limit`)
      statements.set(cacheKey, statement)
    }
    const limit = Math.max(1, Math.floor(filter.limit))
    const params: Record<string, unknown> = { workspaceId: filter.workspaceId, limit: limit + 1 }
    for (const [key] of present) {
      if (key === 'cursor') params.before = decodeCursor(filter.cursor ?? '')
      else params[key] = filter[key]
    }
    // One row more than asked tells whether another page exists.
    const rows = statement.all(params)
    const data = rows.slice(0, limit).map(toDelivery)
    const last = data[data.length - 1]
    return { data, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null }
  }
}
