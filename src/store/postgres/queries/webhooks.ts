/** Webhooks (subscriptions and inline ones), calls, and per-webhook stats. */
import type pg from 'pg'
import { bulk } from '../pool.js'
import { ServiceError } from '../../../errors.js'
import type { Call, NewWebhook, Webhook, WebhookPatch, WebhookStats } from '../../store.js'
import type { CallRow, WebhookRow } from '../rows.js'
import { WEBHOOK_COLUMNS, dateOrNull, msOrNull, toCall, toWebhook } from '../rows.js'
import { isUniqueViolation, transaction } from '../transaction.js'
import { subscriptionOptions, WEBHOOK_DELETED_ERROR } from '../../store.js'

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

async function insertWebhook (db: Queryable, webhook: NewWebhook, nowMs: number): Promise<Webhook> {
  const options = subscriptionOptions(webhook)
  const result = await db.query<WebhookRow>(
    `INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
       enabled, job_id, timeout_ms, max_retries, backoff_ms, ordering, payload_filter, custom_headers, rate_limit_per_s,
       created_at, updated_at, previous_secret, previous_secret_expires_at, retry_schedule_ms, disabled_reason, disabled_at)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $17::jsonb, $18::jsonb, $19, $15, $15, $20, $21,
       $22::jsonb, CASE WHEN $10 THEN NULL ELSE 'manual' END, CASE WHEN $10 THEN NULL ELSE $15::bigint END)
     RETURNING ${WEBHOOK_COLUMNS}`,
    [webhook.id, webhook.workspaceId, webhook.url, JSON.stringify(webhook.events), webhook.name,
      webhook.signingMethod, webhook.secret, webhook.scopeType, webhook.personaId, webhook.enabled,
      webhook.jobId, webhook.timeoutMs, webhook.maxRetries, webhook.backoffMs, nowMs, options.ordering,
      jsonOrNull(options.filter), jsonOrNull(options.headers), options.rateLimitPerS,
      webhook.previousSecret ?? null, msOrNull(webhook.previousSecretExpiresAt),
      webhook.retryScheduleMs == null ? null : JSON.stringify(webhook.retryScheduleMs)])
  return toWebhook(result.rows[0] as WebhookRow)
}

function jsonOrNull (value: object | null): string | null {
  return value === null ? null : JSON.stringify(value)
}

export async function createWebhook (db: pg.Pool, webhook: NewWebhook, now: Date): Promise<Webhook> {
  try {
    return await insertWebhook(db, webhook, now.getTime())
  } catch (err) {
    if (isUniqueViolation(err)) throw new ServiceError('CONFLICT', 'webhook already exists', { cause: err })
    throw err
  }
}

export async function getWebhook (db: pg.Pool, workspaceId: string, id: string): Promise<Webhook | null> {
  const result = await db.query<WebhookRow>(
    `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = $2`, [workspaceId, id])
  const row = result.rows[0]
  return row === undefined ? null : toWebhook(row)
}

export async function listWebhooks (db: pg.Pool, workspaceId: string): Promise<Webhook[]> {
  // Named (prepared once per connection): routing reads this for every accepted event.
  const result = await db.query<WebhookRow>({
    name: 'kejue-list-webhooks',
    text: `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND job_id IS NULL ORDER BY created_at, id`,
    values: [workspaceId],
  })
  return result.rows.map(toWebhook)
}

/**
 * Store.routeWebhooks in one round trip: the candidate ids from the index `webhook_routes`
 * (migration 0002), then the webhooks by primary key. One branch per (filter, '' or persona),
 * each an equality on the whole index prefix, and `id = ANY (ARRAY(…))` for the second step: so
 * that even the generic plan PostgreSQL settles on for a named statement reads by index. (With
 * `event_type = ANY($2)` or a join, the generic plan walked every route of the workspace, or
 * every webhook.) The index probe removes duplicate ids. Named per number of filters (normally 2),
 * so each is prepared once per connection.
 */
export function routeStatement (filterCount: number): string {
  const branches: string[] = []
  for (let i = 0; i < filterCount; i++) {
    for (const persona of ["''", '$2']) {
      branches.push(`SELECT webhook_id FROM webhook_routes WHERE workspace_id = $1 AND event_type = $${i + 3} AND persona_key = ${persona}`)
    }
  }
  return `SELECT ${WEBHOOK_COLUMNS} FROM webhooks
    WHERE id = ANY (ARRAY(${branches.join(' UNION ALL ')})) AND job_id IS NULL
    ORDER BY created_at, id`
}

export async function routeWebhooks (
  db: pg.Pool, workspaceId: string, filters: readonly string[], personaId: string | null,
): Promise<Webhook[]> {
  if (filters.length === 0) return []
  const result = await db.query<WebhookRow>({
    name: `kejue-route-webhooks-${filters.length}`,
    text: routeStatement(filters.length),
    values: [workspaceId, personaId, ...filters],
  })
  return result.rows.map(toWebhook)
}

/**
 * The routes version (Store.routingState, migration 0011): PostgreSQL keeps one version for every workspace (the row
 * ''), read once per turn (routesVersion's turn batch) whatever the workspaces asking. Bigint
 * comes back as text; the values stay in Number's safe range.
 */
export async function routesVersion (db: pg.Pool): Promise<number> {
  const result = await db.query<{ version: string }>({
    name: 'kejue-routes-version',
    text: "SELECT version FROM routes_versions WHERE workspace_id = ''",
  })
  return Number(result.rows[0]?.version ?? 0)
}

// Patch field → column; `events`, `filter`, `headers` and `retry_schedule_ms` are jsonb and cast below.
const JSONB_PATCH_KEYS = new Set<keyof WebhookPatch>(['events', 'filter', 'headers', 'retryScheduleMs'])
const PATCH_COLUMNS: Record<keyof WebhookPatch, string> = {
  url: 'url',
  events: 'events',
  name: 'name',
  signingMethod: 'signing_method',
  secret: 'secret',
  scopeType: 'scope_type',
  personaId: 'persona_id',
  enabled: 'enabled',
  timeoutMs: 'timeout_ms',
  maxRetries: 'max_retries',
  backoffMs: 'backoff_ms',
  ordering: 'ordering',
  filter: 'payload_filter',
  headers: 'custom_headers',
  rateLimitPerS: 'rate_limit_per_s',
  previousSecret: 'previous_secret',
  previousSecretExpiresAt: 'previous_secret_expires_at',
  retryScheduleMs: 'retry_schedule_ms',
}

export async function updateWebhook (
  db: pg.Pool, workspaceId: string, id: string, patch: WebhookPatch, now: Date,
): Promise<Webhook | null> {
  const values: unknown[] = [workspaceId, id, now.getTime()]
  const sets = ['updated_at = $3']
  for (const key of Object.keys(PATCH_COLUMNS) as Array<keyof WebhookPatch>) {
    const value = patch[key]
    if (value === undefined) continue
    const jsonb = JSONB_PATCH_KEYS.has(key)
    values.push(jsonb ? (value === null ? null : JSON.stringify(value)) : value instanceof Date ? value.getTime() : value)
    sets.push(`${PATCH_COLUMNS[key]} = $${values.length}${jsonb ? '::jsonb' : ''}`)
    // The flag and the reason go together: "manual" when turned off here, none when on.
    if (key === 'enabled') {
      const p = `$${values.length}::boolean`
      sets.push(`disabled_reason = CASE WHEN ${p} THEN NULL ELSE coalesce(disabled_reason, 'manual') END`,
        `disabled_at = CASE WHEN ${p} THEN NULL ELSE coalesce(disabled_at, $3) END`)
    }
  }
  const result = await db.query<WebhookRow>(
    `UPDATE webhooks SET ${sets.join(', ')} WHERE workspace_id = $1 AND id = $2 RETURNING ${WEBHOOK_COLUMNS}`,
    values)
  const row = result.rows[0]
  return row === undefined ? null : toWebhook(row)
}


/**
 * Deletes the webhook and ends its pending deliveries as failed in the same transaction. Their
 * leases are cleared too, so an attempt in flight cannot settle them afterwards.
 */
export async function deleteWebhook (db: pg.Pool, workspaceId: string, id: string, now: Date, reason: string = WEBHOOK_DELETED_ERROR): Promise<boolean> {
  return await transaction(db, async (client) => {
    const deleted = await client.query('DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2', [workspaceId, id])
    if ((deleted.rowCount ?? 0) === 0) return false
    await client.query(bulk(
      `UPDATE deliveries SET status = 'failed', last_error = $3, next_attempt_at = NULL, updated_at = $4,
         lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
       WHERE workspace_id = $1 AND webhook_id = $2 AND status IN ('pending', 'parked')`,
      [workspaceId, id, reason, now.getTime()]))
    return true
  })
}

interface StatsRow {
  webhook_id: string
  total: number
  failed: number
  succeeded: number
  parked: number
  last_delivery_at: number | null
  last_error: string | null
}

/**
 * Counts per webhook. `lastDeliveryAt` is when the latest attempt started; `lastError` is the
 * error (or non-2xx status) of the latest attempt that failed, kept after later successes.
 * Computed from the attempts rather than kept on the webhook row, so that concurrent settles in
 * several processes never queue on one hot webhook row. Webhooks without deliveries get zeros.
 */
export async function webhookStats (
  db: pg.Pool, workspaceId: string, ids: readonly string[],
): Promise<Map<string, WebhookStats>> {
  const stats = new Map<string, WebhookStats>()
  if (ids.length === 0) return stats
  const result = await db.query<StatsRow>(
    `SELECT w.id AS webhook_id,
       (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.workspace_id = $1) AS total,
       (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.workspace_id = $1 AND d.status = 'failed') AS failed,
       (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.workspace_id = $1 AND d.status = 'succeeded') AS succeeded,
       (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.workspace_id = $1 AND d.status = 'parked') AS parked,
       (SELECT max(a.started_at) FROM deliveries d JOIN attempts a ON a.delivery_id = d.id
         WHERE d.webhook_id = w.id AND d.workspace_id = $1) AS last_delivery_at,
       failure.error AS last_error
     FROM unnest($2::text[]) AS w(id)
     LEFT JOIN LATERAL (
       SELECT a.error AS error
       FROM deliveries d JOIN attempts a ON a.delivery_id = d.id
       WHERE d.webhook_id = w.id AND d.workspace_id = $1
         AND (a.error IS NOT NULL OR a.status_code < 200 OR a.status_code > 299)
       ORDER BY a.started_at DESC, a.id DESC
       LIMIT 1
     ) AS failure ON true`,
    [workspaceId, [...ids]])
  for (const row of result.rows) {
    stats.set(row.webhook_id, {
      totalDeliveries: row.total,
      failedDeliveries: row.failed,
      succeededDeliveries: row.succeeded,
      parkedDeliveries: row.parked,
      lastDeliveryAt: dateOrNull(row.last_delivery_at),
      lastError: row.last_error,
    })
  }
  return stats
}

export async function createCall (db: pg.Pool, call: Call, inlineWebhooks: NewWebhook[]): Promise<void> {
  try {
    await transaction(db, async (client) => {
      await client.query(
        `INSERT INTO calls (workspace_id, job_id, persona_id, has_inline_webhooks, created_at)
         VALUES ($1, $2, $3, $4, $5)`,
        [call.workspaceId, call.jobId, call.personaId, call.hasInlineWebhooks, call.createdAt.getTime()])
      for (const webhook of inlineWebhooks) {
        await insertWebhook(client, { ...webhook, jobId: webhook.jobId ?? call.jobId }, call.createdAt.getTime())
      }
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw new ServiceError('CONFLICT', 'call already exists', { cause: err })
    throw err
  }
}

export interface CallKey { workspaceId: string, jobId: string }

export const callKeyOf = (key: CallKey): string => `${key.workspaceId}\u0000${key.jobId}`

const CALL_COLUMNS = 'c.workspace_id, c.job_id, c.persona_id, c.has_inline_webhooks, c.created_at'

/**
 * Several calls in one round trip (getCall's turn batch, turn-batch.ts), by callKeyOf. A turn
 * with one call (the usual case at a steady rate, and every event of one call) reads it by key:
 * PostgreSQL re-planned the `unnest` join on every execution (0.09 ms each, 13 % of the server's
 * time at 1,000 ev/s, pg_stat_statements), while a key lookup keeps its cached plan.
 */
export async function getCalls (db: pg.Pool, keys: readonly CallKey[]): Promise<Map<string, Call>> {
  const [only] = keys
  const result = keys.length === 1 && only !== undefined
    ? await db.query<CallRow>({
      name: 'kejue-get-call',
      text: `SELECT ${CALL_COLUMNS} FROM calls c WHERE c.workspace_id = $1 AND c.job_id = $2`,
      values: [only.workspaceId, only.jobId],
    })
    : await db.query<CallRow>({
      name: 'kejue-get-calls',
      text: `SELECT ${CALL_COLUMNS}
       FROM unnest($1::text[], $2::text[]) AS k(workspace_id, job_id)
       JOIN calls c ON c.workspace_id = k.workspace_id AND c.job_id = k.job_id`,
      values: [keys.map((k) => k.workspaceId), keys.map((k) => k.jobId)],
    })
  return new Map(result.rows.map((row) => {
    const call = toCall(row)
    return [callKeyOf(call), call]
  }))
}

export interface RouteKey { workspaceId: string, filters: readonly string[], personaId: string | null }

export const routeKeyOf = (key: RouteKey): string => [key.workspaceId, key.personaId ?? '', ...key.filters].join('\u0000')

/** routeWebhooks for each distinct key of a turn (routeWebhooks' turn batch): one round trip per key, in parallel. */
export async function routeEach (db: pg.Pool, keys: readonly RouteKey[]): Promise<Map<string, Webhook[]>> {
  const answers = await Promise.all(keys.map(async (key) => await routeWebhooks(db, key.workspaceId, key.filters, key.personaId)))
  return new Map(keys.map((key, i) => [routeKeyOf(key), answers[i] ?? []]))
}

export async function listInlineWebhooks (db: pg.Pool, workspaceId: string, jobId: string): Promise<Webhook[]> {
  // Named: routing reads it for every call.* event of a call with inline webhooks.
  const result = await db.query<WebhookRow>({
    name: 'kejue-list-inline-webhooks',
    text: `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND job_id = $2 ORDER BY created_at, id`,
    values: [workspaceId, jobId],
  })
  return result.rows.map(toWebhook)
}
