/**
 * completeAttempts (group commit): one statement records every attempt and settles its delivery.
 * The UPDATE only touches rows whose lease token still matches; the attempts are inserted only for
 * the rows it settled. A statement is atomic, so no explicit transaction is held open.
 */
import type pg from 'pg'
import type { AttemptResult } from '../../store.js'
import { newId } from '../../../util/ids.js'
import { storedDurationMs } from '../../store.js'

const COMPLETE_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::bigint[],
    $8::int[], $9::int[], $10::text[], $11::text[])
    AS t(delivery_id, lease_token, status, next_attempt_at, attempt_id, attempt, started_at,
      duration_ms, status_code, error, response_excerpt)
), settled AS (
  UPDATE deliveries d
  SET status = i.status,
    attempt_count = d.attempt_count + 1,
    next_attempt_at = i.next_attempt_at,
    -- The attempt's error text as the engine worded it (outcomeError), null for a success.
    last_error = i.error,
    last_status_code = i.status_code,
    updated_at = $12::bigint,
    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
  FROM input i
  WHERE d.id = i.delivery_id AND d.lease_token = i.lease_token AND d.status = 'pending'
  RETURNING d.id, d.webhook_id
), recorded AS (
  INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt, webhook_id)
  SELECT i.attempt_id, i.delivery_id, i.attempt, i.started_at, i.duration_ms, i.status_code, i.error, i.response_excerpt, s.webhook_id
  FROM input i JOIN settled s ON s.id = i.delivery_id
)
SELECT id FROM settled`

export async function completeAttempts (db: pg.Pool, results: readonly AttemptResult[], now: Date): Promise<{ rejected: string[] }> {
  // A delivery holds one lease, so it can be settled once per batch; repeats are rejected.
  const seen = new Set<string>()
  const batch: AttemptResult[] = []
  const rejected: string[] = []
  for (const result of results) {
    if (seen.has(result.deliveryId)) rejected.push(result.deliveryId)
    else {
      seen.add(result.deliveryId)
      batch.push(result)
    }
  }
  if (batch.length === 0) return { rejected }
  const { rows } = await db.query<{ id: string }>(COMPLETE_SQL, [
    batch.map((r) => r.deliveryId),
    batch.map((r) => r.leaseToken),
    batch.map((r) => r.settlement.status),
    batch.map((r) => (r.settlement.status === 'pending' ? r.settlement.nextAttemptAt.getTime() : null)),
    batch.map(() => newId('att')),
    batch.map((r) => r.attempt.attempt),
    batch.map((r) => r.attempt.startedAt.getTime()),
    batch.map((r) => storedDurationMs(r.attempt.durationMs)),
    batch.map((r) => r.attempt.statusCode),
    batch.map((r) => r.attempt.error),
    batch.map((r) => r.attempt.responseExcerpt),
    now.getTime(),
  ])
  const settled = new Set(rows.map((row) => row.id))
  for (const result of batch) if (!settled.has(result.deliveryId)) rejected.push(result.deliveryId)
  return { rejected }
}
