import type { Database } from 'better-sqlite3'
import { withRelaxedSync } from '../relaxed-sync.js'

export interface LeaseRef {
  deliveryId: string
  leaseToken: string
}

/** Renewing and handing back leases; both check the token, so a lost lease stays lost. */
export function prepareLeases (db: Database) {
  const renew = db.prepare(`UPDATE deliveries SET lease_expires_at = ?
    WHERE id = ? AND lease_token = ? AND status = 'pending'`)
  // A claimed delivery was due when claimed (next_attempt_at <= claim time), so clearing the
  // lease is enough to make it due again at once.
  const release = db.prepare(`UPDATE deliveries SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE id = ? AND lease_token = ?`)

  const renewAll = db.transaction((items: readonly LeaseRef[], expiresAt: number): string[] => {
    const renewed: string[] = []
    for (const item of items) {
      if (renew.run(expiresAt, item.deliveryId, item.leaseToken).changes > 0) renewed.push(item.deliveryId)
    }
    return renewed
  })
  const releaseAll = db.transaction((items: readonly LeaseRef[]): void => {
    for (const item of items) release.run(item.deliveryId, item.leaseToken)
  })

  return {
    renewLeases (items: readonly LeaseRef[], leaseMs: number, now: Date): string[] {
      if (items.length === 0) return []
      return withRelaxedSync(db, () => renewAll.immediate(items, now.getTime() + leaseMs))
    },
    releaseLeases (items: readonly LeaseRef[]): void {
      if (items.length === 0) return
      withRelaxedSync(db, () => releaseAll.immediate(items))
    },
  }
}
