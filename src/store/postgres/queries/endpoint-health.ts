/**
 * Endpoint health (docs/delivery.md, "The life of an endpoint"): the statements that keep it and
 * act on it — disable (parking), enable (replay or discard), breaker probes and held first
 * attempts, recovery. The rules deciding when are in src/delivery/endpoint-health.ts.
 */
import type pg from 'pg'
import { bulk } from '../pool.js'
import { DISCARDED_ERROR, ERASED_ERROR } from '../../store.js'
import type { DisabledReason, HealthUpdate, RecoverInput, Webhook } from '../../store.js'
import { healthParams } from '../../rows.js'
import type { WebhookRow } from '../rows.js'
import { toWebhook, WEBHOOK_COLUMNS } from '../rows.js'
import { transaction } from '../transaction.js'
import type { OrderedRow } from '../../order-lanes.js'
import { releaseWebhookOrderLanes } from './order-lanes.js'
import { stillLeased } from './recheck.js'

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>
interface LeaseRef { deliveryId: string, leaseToken: string }

// An attempt in flight (live lease) finishes; the engine parks it if it comes back pending.
const PARK_FREE_SQL = `UPDATE deliveries SET status = 'parked', next_attempt_at = NULL, held = false, updated_at = $2,
    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
  WHERE webhook_id = $1 AND status = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= $2)`

async function disable (db: Queryable, id: string, reason: DisabledReason, now: number): Promise<void> {
  const marked = await db.query(
    `UPDATE webhooks SET enabled = false, disabled_reason = $2, disabled_at = $3, updated_at = $3
     WHERE id = $1 AND enabled`, [id, reason, now])
  if ((marked.rowCount ?? 0) > 0) await db.query(bulk(PARK_FREE_SQL, [id, now]))
}

/** Carries out a HealthUpdate inside completeAttempts' transaction; the webhook as it is then. */
export async function applyHealth (client: pg.PoolClient, webhook: Webhook, update: HealthUpdate, now: number): Promise<Webhook> {
  const p = healthParams(update.health)
  await client.query(
    `UPDATE webhooks SET consecutive_failures = $2, breaker = $3, breaker_probe_at = $4, breaker_cooldown_ms = $5,
       last_success_at = $6, failed_deliveries_in_row = $7, failing_since = $8
     WHERE id = $1`,
    [webhook.id, p.consecutive_failures, p.breaker, p.breaker_probe_at, p.breaker_cooldown_ms, p.last_success_at,
      p.failed_deliveries_in_row, p.failing_since])
  if (update.disable !== null && webhook.enabled) await disable(client, webhook.id, update.disable, now)
  if (update.releaseHeld) {
    // The store announces the work once the transaction has committed.
    await client.query(
      `UPDATE deliveries SET next_attempt_at = $2, held = false WHERE webhook_id = $1 AND status = 'pending' AND held`,
      [webhook.id, now])
  }
  if (update.holdUntil !== null) {
    await client.query(
      `UPDATE deliveries SET next_attempt_at = $2
       WHERE webhook_id = $1 AND status = 'pending' AND held AND (lease_expires_at IS NULL OR lease_expires_at <= $3)`,
      [webhook.id, update.holdUntil.getTime(), now])
  }
  const result = await client.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`, [webhook.id])
  const row = result.rows[0]
  return row === undefined ? webhook : toWebhook(row)
}

async function selectForUpdate (client: pg.PoolClient, workspaceId: string, id: string): Promise<Webhook | null> {
  const result = await client.query<WebhookRow>(
    `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, [workspaceId, id])
  const row = result.rows[0]
  return row === undefined ? null : toWebhook(row)
}

export async function disableWebhook (db: pg.Pool, workspaceId: string, id: string, reason: DisabledReason, now: Date): Promise<Webhook | null> {
  return await transaction(db, async (client) => {
    const before = await selectForUpdate(client, workspaceId, id)
    if (before === null) return null
    if (!before.enabled) return before
    await disable(client, id, reason, now.getTime())
    return await selectForUpdate(client, workspaceId, id)
  })
}

export async function enableWebhook (db: pg.Pool, workspaceId: string, id: string, replay: boolean, now: Date): Promise<Webhook | null> {
  return await transaction(db, async (client) => {
    const before = await selectForUpdate(client, workspaceId, id)
    if (before === null) return null
    if (before.enabled) return before
    const at = now.getTime()
    await client.query(
      `UPDATE webhooks SET enabled = true, disabled_reason = NULL, disabled_at = NULL, updated_at = $2,
         consecutive_failures = 0, breaker = 'closed', breaker_probe_at = NULL, breaker_cooldown_ms = 0,
         failed_deliveries_in_row = 0, failing_since = NULL
       WHERE id = $1`, [id, at])
    if (replay) {
      // Per-call ordering (src/store/order-lanes.ts): an ordered delivery comes back waiting, in
      // its place; releasing its call's queue then lets the earliest go, unless one is under way.
      const lanes = await client.query<OrderedRow>(bulk(
        `WITH replayed AS (
           UPDATE deliveries SET status = 'pending', next_attempt_at = CASE WHEN order_key IS NULL THEN $2::bigint END,
             held = false, updated_at = $2
           WHERE webhook_id = $1 AND status = 'parked'
           RETURNING webhook_id, order_key
         )
         SELECT DISTINCT webhook_id, order_key FROM replayed WHERE order_key IS NOT NULL`, [id, at]))
      await releaseWebhookOrderLanes(client, id, lanes.rows, now)
    } else {
      await client.query(bulk(
        `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $3, updated_at = $2
         WHERE webhook_id = $1 AND status = 'parked'`, [id, at, DISCARDED_ERROR]))
    }
    return await selectForUpdate(client, workspaceId, id)
  })
}

export async function takeBreakerProbe (db: pg.Pool, webhookId: string, now: Date, retryAt: Date): Promise<boolean> {
  const result = await db.query(
    `UPDATE webhooks SET breaker = 'half_open', breaker_probe_at = $3
     WHERE id = $1 AND breaker IN ('open', 'half_open') AND breaker_probe_at <= $2`,
    [webhookId, now.getTime(), retryAt.getTime()])
  return (result.rowCount ?? 0) > 0
}

/** Exported so that tests can check its plan: the leased deliveries found by their key (recheck.ts). */
export const HOLD_FIRST_ATTEMPTS_SQL = `
WITH leased AS (
  UPDATE deliveries d SET next_attempt_at = $4, held = true, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
  FROM unnest($2::text[], $3::text[]) AS t(id, token)
  WHERE d.id = t.id AND ${stillLeased('d', 't.token')}
  RETURNING d.id
), free AS (
  UPDATE deliveries SET next_attempt_at = $4, held = true
  WHERE webhook_id = $1 AND status = 'pending' AND attempt_count = 0 AND NOT skip_breaker
    AND next_attempt_at < $4 AND (lease_expires_at IS NULL OR lease_expires_at <= $5)
  RETURNING id
)
SELECT ((SELECT count(*) FROM leased) + (SELECT count(*) FROM free))::int AS n`

export async function holdFirstAttempts (db: pg.Pool, webhookId: string, leased: readonly LeaseRef[], until: Date, now: Date): Promise<number> {
  const result = await db.query<{ n: number }>(HOLD_FIRST_ATTEMPTS_SQL,
    [webhookId, leased.map((l) => l.deliveryId), leased.map((l) => l.leaseToken), until.getTime(), now.getTime()])
  return result.rows[0]?.n ?? 0
}

/** Exported so that tests can check its plan: each delivery found by its key (recheck.ts). */
export const PARK_LEASED_SQL = `
UPDATE deliveries d SET status = 'parked', next_attempt_at = NULL, held = false, updated_at = $3,
  lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
FROM unnest($1::text[], $2::text[]) AS t(id, token)
WHERE d.id = t.id AND ${stillLeased('d', 't.token')}`

export async function parkDeliveries (db: pg.Pool, items: readonly LeaseRef[], now: Date): Promise<void> {
  if (items.length === 0) return
  await db.query(PARK_LEASED_SQL, [items.map((i) => i.deliveryId), items.map((i) => i.leaseToken), now.getTime()])
}

const RECOVERABLE = `webhook_id = $1 AND workspace_id = $2 AND status = 'failed'
  AND created_at >= $3 AND ($4::bigint IS NULL OR created_at < $4::bigint) AND coalesce(last_error, '') <> '${ERASED_ERROR}'`

export async function recoverDeliveries (db: pg.Pool, input: RecoverInput): Promise<{ matched: number, requeued: number }> {
  return await transaction(db, async (client) => {
    const params = [input.webhookId, input.workspaceId, input.since.getTime(), input.until?.getTime() ?? null]
    const counted = await client.query<{ n: number }>(bulk(`SELECT count(*)::int AS n FROM deliveries WHERE ${RECOVERABLE}`, params))
    const matched = counted.rows[0]?.n ?? 0
    if (input.dryRun || matched === 0) return { matched, requeued: 0 }
    // Like enable's replay: an ordered delivery waits in its place until its call's queue is released.
    const updated = await client.query<OrderedRow & { n: number }>(bulk(
      `WITH recovered AS (
         UPDATE deliveries SET status = $5,
           next_attempt_at = CASE WHEN $5 = 'pending' AND order_key IS NULL THEN $6::bigint END,
           max_attempts = attempt_count + 1 + $7, held = false, skip_breaker = false, updated_at = $6,
           lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE ${RECOVERABLE}
         RETURNING webhook_id, order_key
       )
       SELECT webhook_id, order_key, count(*)::int AS n FROM recovered GROUP BY webhook_id, order_key`,
      [...params, input.status, input.now.getTime(), input.retries]))
    if (input.status === 'pending') await releaseWebhookOrderLanes(client, input.webhookId, updated.rows, input.now)
    return { matched, requeued: updated.rows.reduce((sum, row) => sum + row.n, 0) }
  })
}
