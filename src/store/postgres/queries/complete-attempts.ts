/**
 * completeAttempts (group commit): one statement records every attempt and settles its delivery.
 * The UPDATE only touches rows whose lease token still matches; the attempts are inserted only for
 * the rows it settled. When some of them were ordered (per-call ordering, docs/delivery.md) and
 * are now settled for good, the same transaction then locks their (webhook, call) queues and makes
 * the next waiting delivery of each due: with the lock, after the settle, so that an event
 * recorded meanwhile for the same call (recordEvent takes the same lock) is either seen here or
 * sees the settled delivery, and never waits forever. With a health rule, the same transaction
 * applies it to each touched webhook (the row locked, in id order, only when its health changes).
 */
import type pg from 'pg'
import type { AttemptResult, CompleteResult, HealthChange, HealthRule, SettledAttempt } from '../../store.js'
import { transaction } from '../transaction.js'
import { releaseOrderLanes } from './order-lanes.js'
import { newId } from '../../../util/ids.js'
import { addSettled, storedDurationMs } from '../../store.js'
import type { WebhookRow } from '../rows.js'
import { toWebhook, WEBHOOK_COLUMNS } from '../rows.js'
import { applyHealth } from './endpoint-health.js'
import { stillLeased } from './recheck.js'

/** Exported so that tests can check its plan: each delivery found by its key (recheck.ts). */
export const COMPLETE_SQL = `
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
    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, held = false
  FROM input i
  WHERE d.id = i.delivery_id AND ${stillLeased('d', 'i.lease_token')}
  RETURNING d.id, d.webhook_id, d.order_key, d.status, d.created_at
), recorded AS (
  INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt, webhook_id)
  SELECT i.attempt_id, i.delivery_id, i.attempt, i.started_at, i.duration_ms, i.status_code, i.error, i.response_excerpt, s.webhook_id
  FROM input i JOIN settled s ON s.id = i.delivery_id
)
SELECT id, webhook_id, order_key, status, created_at FROM settled`

interface SettledRow { id: string, webhook_id: string, order_key: string | null, status: string, created_at: number }

export async function completeAttempts (
  db: pg.Pool, results: readonly AttemptResult[], now: Date, rule?: HealthRule,
): Promise<CompleteResult> {
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
  if (batch.length === 0) return { rejected, released: 0, health: [] }
  const values = [
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
  ]
  const { rows, released, health } = await transaction(db, async (client) => {
    const settled = (await client.query<SettledRow>(COMPLETE_SQL, values)).rows
    const health = rule === undefined ? [] : await applyHealthRule(client, batch, settled, rule, now)
    const ended = settled.filter((row) => row.order_key !== null && row.status !== 'pending')
    if (ended.length === 0) return { rows: settled, released: 0, health }
    // The store announces released work to the other processes after the commit.
    return { rows: settled, released: await releaseOrderLanes(client, ended, now), health }
  })
  const settled = new Set(rows.map((row) => row.id))
  for (const result of batch) if (!settled.has(result.deliveryId)) rejected.push(result.deliveryId)
  return { rejected, released, health }
}

/** The health rule over each touched webhook's settled attempts, and its updates. */
async function applyHealthRule (
  client: pg.PoolClient, batch: readonly AttemptResult[], rows: readonly SettledRow[], rule: HealthRule, now: Date,
): Promise<HealthChange[]> {
  const byId = new Map(batch.map((r) => [r.deliveryId, r]))
  const settledByWebhook = new Map<string, SettledAttempt[]>()
  for (const row of rows) {
    const result = byId.get(row.id)
    if (result !== undefined) addSettled(settledByWebhook, row.webhook_id, result, new Date(row.created_at))
  }
  if (settledByWebhook.size === 0) return []
  // Most batches change no webhook's health (a healthy endpoint): a plain read finds those, so
  // only webhooks whose health changes are locked (and the rule applied again under the lock).
  const ids = [...settledByWebhook.keys()].sort()
  const current = await client.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ANY ($1::text[])`, [ids])
  const changing = current.rows.map(toWebhook).filter((w) => rule(w, settledByWebhook.get(w.id) ?? [], now) !== null).map((w) => w.id).sort()
  const health: HealthChange[] = []
  for (const id of changing) {
    const locked = await client.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 FOR UPDATE`, [id])
    const row = locked.rows[0]
    if (row === undefined) continue
    const webhook = toWebhook(row)
    const update = rule(webhook, settledByWebhook.get(id) ?? [], now)
    if (update === null) continue
    const after = await applyHealth(client, webhook, update, now.getTime())
    health.push({ webhook: after, disabled: webhook.enabled && !after.enabled })
  }
  return health
}
