/** Read-only views of the queue, for the engine's sleep and for /metrics. */
import type pg from 'pg'
import type { QueueStats } from '../../store.js'

/**
 * The earliest time a pending delivery could be claimed: its next attempt, or the end of its
 * lease when one is held (a leased delivery is not claimable before it runs out, so an engine
 * sleeping until this time does not spin on deliveries already in flight).
 */
export async function nextDueAt (db: pg.Pool): Promise<Date | null> {
  const result = await db.query<{ at: number | null }>(
    `SELECT min(greatest(next_attempt_at, coalesce(lease_expires_at, 0))) AS at
     FROM deliveries WHERE status = 'pending' AND webhook_id NOT IN (SELECT webhook_id FROM cli_sessions)`)
  const at = result.rows[0]?.at ?? null
  return at === null ? null : new Date(at)
}

const DUE = "status = 'pending' AND next_attempt_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1)"

/** `due` counts what a claim could take now: deliveries in flight (under a live lease) are not due. */
export async function queueStats (db: pg.Pool, now: Date, failedSince: Date): Promise<QueueStats> {
  const nowMs = now.getTime()
  const result = await db.query<{ pending: number, due: number, oldest: number | null, failed: number }>(
    `SELECT
       (SELECT count(*) FROM deliveries WHERE status = 'pending') AS pending,
       (SELECT count(*) FROM deliveries WHERE ${DUE}) AS due,
       (SELECT min(next_attempt_at) FROM deliveries WHERE ${DUE}) AS oldest,
       (SELECT count(*) FROM deliveries WHERE status = 'failed' AND updated_at >= $2) AS failed`,
    [nowMs, failedSince.getTime()])
  const row = result.rows[0]
  return {
    pending: row?.pending ?? 0,
    due: row?.due ?? 0,
    oldestDueAgeMs: row?.oldest == null ? 0 : Math.max(0, nowMs - row.oldest),
    failedSince: row?.failed ?? 0,
  }
}
