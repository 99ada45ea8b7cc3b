/**
 * claimDue: one statement per batch. The inner SELECT picks due, unleased rows in due order (of
 * the webhooks not excluded: see PICK_BY_LANE) and locks them with FOR UPDATE SKIP LOCKED, so concurrent claimers (other workers, other processes)
 * each get different rows without waiting on each other. The UPDATE then stamps every row with a
 * fresh random lease token (the fencing token) and the lease expiry, and the result carries the
 * event body and the webhook as it is now (null when deleted).
 */
import type pg from 'pg'
import type { ClaimOptions, ClaimedDelivery } from '../../store.js'
import type { WebhookRow } from '../rows.js'
import { toWebhook } from '../rows.js'
import { recheck } from './recheck.js'

interface ClaimRow {
  skip_breaker: boolean
  id: string
  event_id: string
  event_type: string
  attempt_count: number
  max_attempts: number
  lease_token: string
  next_attempt_at: number
  body: string
  webhook: WebhookRow | null
}

const CLAIMABLE = `d.status = 'pending' AND d.next_attempt_at <= $1
    AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)`

// `listen --forward-to` sessions' webhooks (docs/receiving.md) are claimed only by the process
// holding the session (PICK_HUB), never by the engine.
const NOT_CLI = 'd.webhook_id NOT IN (SELECT webhook_id FROM cli_sessions)'

// Nothing excluded ($2 is empty): the earliest due rows straight off deliveries_due.
const PICK_DUE = `
  SELECT d.id FROM deliveries d
  WHERE ${CLAIMABLE} AND d.webhook_id <> ALL ($2::text[]) AND ${NOT_CLI}
  ORDER BY d.next_attempt_at, d.id
  LIMIT $3
  FOR UPDATE SKIP LOCKED`

/*
 * Some webhooks excluded: the same rows, without walking the excluded webhooks' due rows (a dead
 * endpoint's backlog can be millions). `lanes` is a loose index scan over deliveries_lane: one
 * seek per webhook that has a delivery with a next attempt. `heads` keeps the `limit` lanes (not
 * excluded) whose earliest claimable row comes first: no other lane can have a row in this batch.
 * `candidates` merges at most `limit` rows of each of those lanes in due order; the final pick
 * locks them by primary key, skipping rows another claimer holds, and rechecks them once locked.
 *
 * Written so that no plan can walk deliveries_due, whatever the statistics (a table not yet
 * analyzed — a fresh database, autovacuum off or not yet run — was planned that way: every due
 * row, the excluded webhooks' too, for each lane and against each candidate; docs/performance.md,
 * tenth and eleventh rounds; test/delivery/backlog.test.ts checks with and without statistics):
 * - a lane's rows are `webhook_id = x AND next_attempt_at <= now`, so a lane's walk ends at its
 *   first row not yet due; their status is a recheck (recheck.ts), so nothing proves
 *   deliveries_due's predicate and only deliveries_lane (next attempt not null, migration 0013)
 *   can serve them;
 * - `lanes` is ordered by (webhook_id, next_attempt_at), which deliveries_lane alone provides
 *   (deliveries_webhook would walk every settled delivery between two lanes);
 * - the pick takes the ids as an array and has no ORDER BY (the result is sorted after the
 *   UPDATE; SKIP LOCKED never waits, so lock order does not matter), and its claimability is a
 *   recheck too: otherwise deliveries_due served it, one walk of the due range per id
 *   (test/delivery/key-lookups.test.ts).
 */
const LANE_CLAIMABLE = `d.next_attempt_at <= $1
    AND ${recheck("d.status = 'pending' AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)")}`

const PICK_BY_LANE = `
  WITH RECURSIVE lanes (webhook_id) AS (
    (SELECT d.webhook_id FROM deliveries d WHERE d.next_attempt_at IS NOT NULL
     ORDER BY d.webhook_id, d.next_attempt_at LIMIT 1)
    UNION ALL
    SELECT (SELECT d.webhook_id FROM deliveries d
            WHERE d.next_attempt_at IS NOT NULL AND d.webhook_id > lanes.webhook_id
            ORDER BY d.webhook_id, d.next_attempt_at LIMIT 1)
    FROM lanes WHERE lanes.webhook_id IS NOT NULL
  ), heads AS (
    SELECT lanes.webhook_id FROM lanes
    CROSS JOIN LATERAL (
      SELECT d.next_attempt_at, d.id FROM deliveries d
      WHERE d.webhook_id = lanes.webhook_id AND ${LANE_CLAIMABLE}
      ORDER BY d.next_attempt_at, d.id LIMIT 1) head
    WHERE lanes.webhook_id IS NOT NULL AND lanes.webhook_id <> ALL ($2::text[])
      AND lanes.webhook_id NOT IN (SELECT webhook_id FROM cli_sessions)
    ORDER BY head.next_attempt_at, head.id
    LIMIT $3
  ), candidates AS (
    SELECT due.id FROM heads
    CROSS JOIN LATERAL (
      SELECT d.id, d.next_attempt_at FROM deliveries d
      WHERE d.webhook_id = heads.webhook_id AND ${LANE_CLAIMABLE}
      ORDER BY d.next_attempt_at, d.id LIMIT $3) due
    ORDER BY due.next_attempt_at, due.id
    LIMIT $3
  )
  SELECT d.id FROM deliveries d
  WHERE d.id = ANY (ARRAY(SELECT id FROM candidates)) AND ${recheck(CLAIMABLE)}
  FOR UPDATE SKIP LOCKED`

// A CLI session hub ($2 is its id): only the lanes of its own sessions' webhooks.
const PICK_HUB = `
  SELECT d.id FROM deliveries d
  WHERE d.webhook_id IN (SELECT webhook_id FROM cli_sessions WHERE hub_id = $2::text) AND ${CLAIMABLE}
  ORDER BY d.next_attempt_at, d.id
  LIMIT $3
  FOR UPDATE SKIP LOCKED`

function claimSql (pick: string): string {
  return `
WITH picked AS (${pick}
), claimed AS (
  UPDATE deliveries d
  SET lease_token = gen_random_uuid()::text, lease_expires_at = $1::bigint + $4::bigint, lease_owner = $5
  FROM picked
  WHERE d.id = picked.id
  RETURNING d.id, d.workspace_id, d.event_id, d.event_type, d.webhook_id, d.attempt_count, d.max_attempts,
    d.lease_token, d.next_attempt_at, d.skip_breaker
)
SELECT c.id, c.event_id, c.event_type, c.attempt_count, c.max_attempts, c.lease_token, c.next_attempt_at, c.skip_breaker,
  e.body, to_jsonb(w) AS webhook
FROM claimed c
JOIN events e ON e.workspace_id = c.workspace_id AND e.id = c.event_id
LEFT JOIN webhooks w ON w.id = c.webhook_id
ORDER BY c.next_attempt_at, c.id`
}

/** Exported so that tests can check its plan (EXPLAIN): an index scan that skips settled rows. */
export const CLAIM_DUE_SQL = claimSql(PICK_DUE)
/** Exported so that tests can check its plan (EXPLAIN): no scan of an excluded webhook's rows. */
export const CLAIM_BY_LANE_SQL = claimSql(PICK_BY_LANE)
const CLAIM_HUB_SQL = claimSql(PICK_HUB)

export async function claimDue (db: pg.Pool, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  const limit = Math.floor(options.limit)
  if (limit <= 0) return []
  const excluded = [...new Set(options.excludeWebhookIds ?? [])]
  const hub = options.cliHubId ?? null
  const sql = hub !== null ? CLAIM_HUB_SQL : excluded.length === 0 ? CLAIM_DUE_SQL : CLAIM_BY_LANE_SQL
  const result = await db.query<ClaimRow>(sql, [
    options.now.getTime(),
    hub ?? excluded,
    limit,
    Math.max(0, Math.round(options.leaseMs)),
    options.owner,
  ])
  return result.rows.map((row) => ({
    deliveryId: row.id,
    leaseToken: row.lease_token,
    eventId: row.event_id,
    eventType: row.event_type,
    body: row.body,
    attempt: row.attempt_count + 1,
    maxAttempts: row.max_attempts,
    skipBreaker: row.skip_breaker,
    webhook: row.webhook === null ? null : toWebhook(row.webhook),
  }))
}
