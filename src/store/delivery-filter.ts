/**
 * What both drivers need to apply a DeliveryFilter's time range with the listing index.
 * Delivery ids are time-sortable (ULIDs, util/ids.ts) and made when the delivery is created, so a
 * created_at range maps onto an id range: the driver scans `id` between the two bounds (the same
 * index range a page already walks, newest first) and checks created_at exactly on the rows
 * found. The bounds are widened by ID_TIME_SLACK_MS because an id's time and created_at are
 * read from the clock a moment apart (docs/storage.md, "Delivery search").
 */
import { idTimeBound } from '../util/ids.js'
import { DELIVERY_STATUSES } from './store.js'
import type { DeliveryFilter, DeliveryStatus } from './store.js'

export const ID_TIME_SLACK_MS = 60_000

export interface DeliveryIdRange {
  /** id ≥ this, when `since` is set. */
  idFrom: string | null
  /** id < this, when `until` is set. */
  idTo: string | null
}

export function deliveryIdRange (filter: Pick<DeliveryFilter, 'since' | 'until'>): DeliveryIdRange {
  return {
    idFrom: filter.since === undefined ? null : idTimeBound('dlv', filter.since.getTime() - ID_TIME_SLACK_MS),
    idTo: filter.until === undefined ? null : idTimeBound('dlv', filter.until.getTime() + ID_TIME_SLACK_MS),
  }
}

/** At most this many webhooks of a `webhookIds` filter are read as one range each (listingRanges). */
export const MAX_WEBHOOK_RANGES = 64

/**
 * How a listing reads its index (docs/storage.md, "Delivery search"): one range, or several, each
 * at most a page, merged newest first.
 *  - `status`: a workspace's deliveries with no narrower filter, one range of
 *    (workspace_id, status, id) per status: there is no (workspace_id, id) index since migration
 *    0012, one b-tree fewer for every delivery to write. Also a persona's webhooks beyond
 *    MAX_WEBHOOK_RANGES, filtered by webhook within each status.
 *  - `webhook`: a `webhookIds` filter (a persona's portal), one range of (webhook_id, id) — or
 *    (webhook_id, status, id) with a status — per distinct webhook, instead of the workspace's
 *    deliveries filtered by webhook (a scan as long as the others' deliveries are many).
 *  - `one`: a filter with an index of its own (a webhook, an event, a job, a contact, an event
 *    type, a status).
 *  - `none`: an empty `webhookIds` (a persona without webhooks): nothing to read.
 */
export type ListingRanges =
  | { by: 'one' }
  | { by: 'none' }
  | { by: 'status', statuses: readonly DeliveryStatus[] }
  | { by: 'webhook', ids: readonly string[] }

export function listingRanges (filter: DeliveryFilter): ListingRanges {
  const selective = filter.eventId !== undefined || filter.jobId !== undefined || filter.contactId !== undefined
  const narrower = selective || filter.status !== undefined || filter.webhookId !== undefined || filter.eventType !== undefined
  if (filter.webhookIds !== undefined) {
    const ids = [...new Set(filter.webhookIds)]
    if (ids.length === 0) return { by: 'none' }
    if (selective) return { by: 'one' }
    if (ids.length <= MAX_WEBHOOK_RANGES) return { by: 'webhook', ids }
  }
  return narrower ? { by: 'one' } : { by: 'status', statuses: DELIVERY_STATUSES }
}
