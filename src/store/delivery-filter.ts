/**
 * What both drivers need to apply a DeliveryFilter's time range with the listing index.
 * Delivery ids are time-sortable (ULIDs, util/ids.ts) and made when the delivery is created, so a
 * created_at range maps onto an id range: the driver scans `id` between the two bounds (the same
 * index range a page already walks, newest first) and checks created_at exactly on the rows
 * found. The bounds are widened by ID_TIME_SLACK_MS because an id's time and created_at are
 * read from the clock a moment apart (docs/storage.md, "Delivery search").
 */
import { idTimeBound } from '../util/ids.js'
import type { DeliveryFilter } from './store.js'

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
