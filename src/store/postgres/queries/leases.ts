/** Heartbeats and hand-backs for leases; both are fenced by the lease token. */
import type pg from 'pg'
import { stillLeased } from './recheck.js'

type LeaseItems = ReadonlyArray<{ deliveryId: string, leaseToken: string }>

/** Exported so that tests can check its plan: each delivery found by its key (recheck.ts). */
export const RENEW_LEASES_SQL = `
UPDATE deliveries d SET lease_expires_at = $3::bigint
WHERE d.id IN (
  SELECT l.id FROM deliveries l
  JOIN unnest($1::text[], $2::text[]) AS t(id, token) ON l.id = t.id
  WHERE ${stillLeased('l', 't.token')}
  FOR UPDATE OF l SKIP LOCKED)
RETURNING d.id`

/**
 * Extends the leases whose token still matches. A lease that ran out but was not claimed again
 * still matches and is extended; one that another worker claimed has a new token and does not.
 */
export async function renewLeases (db: pg.Pool, items: LeaseItems, leaseMs: number, now: Date): Promise<string[]> {
  if (items.length === 0) return []
  // SKIP LOCKED: a row locked now is being settled by this worker's own group commit, so it
  // needs no renewal; waiting for it instead could deadlock with that commit (rows locked in
  // another order).
  const result = await db.query<{ id: string }>(RENEW_LEASES_SQL,
    [items.map((i) => i.deliveryId), items.map((i) => i.leaseToken), now.getTime() + Math.round(leaseMs)])
  return result.rows.map((row) => row.id)
}

/** Gives leases back without an attempt; the deliveries keep their (past) due time, so are due at once. */
export async function releaseLeases (db: pg.Pool, items: LeaseItems): Promise<void> {
  if (items.length === 0) return
  await db.query(
    `UPDATE deliveries d SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
     FROM unnest($1::text[], $2::text[]) AS t(id, token)
     WHERE d.id = t.id AND d.lease_token = t.token`,
    [items.map((i) => i.deliveryId), items.map((i) => i.leaseToken)])
}
