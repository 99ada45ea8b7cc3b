import type { Database, Statement } from 'better-sqlite3'
import type { Call, NewWebhook, RoutingState, Webhook, WebhookPatch } from '../../store.js'
import { toCall, toMs, toWebhook, WEBHOOK_COLUMNS } from '../rows.js'
import type { CallRow, WebhookRow } from '../rows.js'
import { conflictOnDuplicate } from '../sqlite-errors.js'
import { subscriptionOptions, WEBHOOK_DELETED_ERROR } from '../../store.js'

/** Why a pending delivery ended when its webhook was deleted (Store.deleteWebhook). */

const COLUMNS = WEBHOOK_COLUMNS.join(', ')
const INSERT_COLUMNS = `id, workspace_id, url, events, name, signing_method, secret, scope_type,
  persona_id, enabled, job_id, timeout_ms, max_retries, backoff_ms, ordering, payload_filter,
  custom_headers, rate_limit_per_s, created_at, updated_at, previous_secret, previous_secret_expires_at,
  retry_schedule_ms, disabled_reason, disabled_at`

/** WebhookPatch key → column, with the conversion to the stored form. */
const PATCH_COLUMNS: { [K in keyof Required<WebhookPatch>]: { column: string, toDb: (value: NonNullable<WebhookPatch[K]> | null) => unknown } } = {
  url: { column: 'url', toDb: (v) => v },
  events: { column: 'events', toDb: (v) => JSON.stringify(v) },
  name: { column: 'name', toDb: (v) => v },
  signingMethod: { column: 'signing_method', toDb: (v) => v },
  secret: { column: 'secret', toDb: (v) => v },
  scopeType: { column: 'scope_type', toDb: (v) => v },
  personaId: { column: 'persona_id', toDb: (v) => v },
  enabled: { column: 'enabled', toDb: (v) => (v === true ? 1 : 0) },
  retryScheduleMs: { column: 'retry_schedule_ms', toDb: (v) => (v === null ? null : JSON.stringify(v)) },
  timeoutMs: { column: 'timeout_ms', toDb: (v) => v },
  maxRetries: { column: 'max_retries', toDb: (v) => v },
  backoffMs: { column: 'backoff_ms', toDb: (v) => v },
  ordering: { column: 'ordering', toDb: (v) => v },
  filter: { column: 'payload_filter', toDb: (v) => (v === null ? null : JSON.stringify(v)) },
  headers: { column: 'custom_headers', toDb: (v) => (v === null ? null : JSON.stringify(v)) },
  rateLimitPerS: { column: 'rate_limit_per_s', toDb: (v) => v },
  previousSecret: { column: 'previous_secret', toDb: (v) => v },
  previousSecretExpiresAt: { column: 'previous_secret_expires_at', toDb: (v) => (v === null ? null : toMs(v)) },
}

function isPatchKey (key: string): key is keyof WebhookPatch {
  return Object.hasOwn(PATCH_COLUMNS, key)
}

/**
 * Store.routeWebhooks: the index `webhook_routes` (migration 0002) is read first — CROSS JOIN keeps
 * SQLite from walking the workspace's webhooks instead — then each webhook by primary key.
 * Parameters: workspace, the `filterCount` filters, the persona (or null). A webhook listing both
 * the type and "*" comes twice; the caller keeps one and orders them (cheaper in JS for these few
 * rows than a DISTINCT and an ORDER BY, each a temporary b-tree per event). Prepared once per
 * number of filters (normally 2).
 */
export function routeSql (filterCount: number): string {
  return `SELECT ${WEBHOOK_COLUMNS.map((c) => `w.${c}`).join(', ')}
    FROM webhook_routes AS r CROSS JOIN webhooks AS w ON w.id = r.webhook_id
    WHERE r.workspace_id = ? AND r.event_type IN (${Array(filterCount).fill('?').join(', ')})
      AND r.persona_key IN ('', ?) AND w.deleted_at IS NULL AND w.job_id IS NULL`
}

/** Each webhook once, oldest first (by created_at, then id), as listings order them. */
function distinctOldestFirst (rows: readonly WebhookRow[]): WebhookRow[] {
  const byId = new Map<string, WebhookRow>()
  for (const row of rows) if (!byId.has(row.id)) byId.set(row.id, row)
  return [...byId.values()].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** What Store.routingState is asked for, and its key in a turn batch. */
export interface RoutingKey { workspaceId: string, jobId: string | null }
export const routingKeyOf = (key: RoutingKey): string => JSON.stringify([key.workspaceId, key.jobId])

/** Webhooks (subscriptions and inline ones) and calls. Deleted webhooks keep their row. */
export function prepareWebhooks (db: Database) {
  const insertWebhook = db.prepare(`INSERT INTO webhooks (${INSERT_COLUMNS})
    VALUES (@id, @workspace_id, @url, @events, @name, @signing_method, @secret, @scope_type,
            @persona_id, @enabled, @job_id, @timeout_ms, @max_retries, @backoff_ms, @ordering,
            @payload_filter, @custom_headers, @rate_limit_per_s, @created_at, @updated_at,
            @previous_secret, @previous_secret_expires_at, @retry_schedule_ms, @disabled_reason, @disabled_at)`)
  const selectWebhook = db.prepare<[string, string], WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`)
  const selectWebhooks = db.prepare<[string], WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks WHERE workspace_id = ? AND deleted_at IS NULL AND job_id IS NULL ORDER BY created_at, id`)
  const routeStatements = new Map<number, Statement<unknown[], WebhookRow>>()
  function routeStatement (filterCount: number): Statement<unknown[], WebhookRow> {
    let statement = routeStatements.get(filterCount)
    if (statement === undefined) {
      statement = db.prepare<unknown[], WebhookRow>(routeSql(filterCount))
      routeStatements.set(filterCount, statement)
    }
    return statement
  }
  const selectInline = db.prepare<[string, string], WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks WHERE workspace_id = ? AND job_id = ? AND deleted_at IS NULL ORDER BY created_at, id`)
  // The secret goes with the row: a deleted webhook signs nothing any more.
  const markDeleted = db.prepare(`UPDATE webhooks SET deleted_at = @now, updated_at = @now, secret = NULL,
    previous_secret = NULL, previous_secret_expires_at = NULL
    WHERE id = @id AND workspace_id = @workspaceId AND deleted_at IS NULL`)
  const failPending = db.prepare(`UPDATE deliveries
    SET status = 'failed', next_attempt_at = NULL, last_error = @error, updated_at = @now,
        lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE webhook_id = @id AND status IN ('pending', 'parked')`)
  const upsertCall = db.prepare(`INSERT INTO calls (workspace_id, job_id, persona_id, has_inline_webhooks, created_at)
    VALUES (@workspaceId, @jobId, @personaId, @hasInline, @createdAt)
    ON CONFLICT (workspace_id, job_id) DO UPDATE SET
      persona_id = COALESCE(excluded.persona_id, calls.persona_id),
      has_inline_webhooks = MAX(calls.has_inline_webhooks, excluded.has_inline_webhooks)`)
  // Both of routingState's answers in one statement (run in the turn's read transaction, routingStates).
  const selectRoutingState = db.prepare<{ ws: string, job: string | null }, Partial<CallRow> & { routes_version: number | null }>(`
    SELECT (SELECT version FROM routes_versions WHERE workspace_id = @ws) AS routes_version, c.*
    FROM (SELECT 1) LEFT JOIN calls c ON c.workspace_id = @ws AND c.job_id = @job`)
  const updates = new Map<string, Statement>()

  function routingState (workspaceId: string, jobId: string | null): RoutingState {
    const { routes_version: version, ...call } = selectRoutingState.get({ ws: workspaceId, job: jobId }) ?? { routes_version: null }
    // The LEFT JOIN found the call when its (NOT NULL) job_id is there, and with it the whole row.
    return { routesVersion: version ?? 0, call: call.job_id == null ? null : toCall(call as CallRow) }
  }
  // The events of a turn read theirs in one read transaction (src/store/turn-batch.ts): a statement
  // outside a transaction begins and ends one of its own, and that was most of the read's cost
  // (docs/performance.md, eleventh round).
  const readRoutingStates = db.transaction((keys: readonly RoutingKey[]): Map<string, RoutingState> =>
    new Map(keys.map((key) => [routingKeyOf(key), routingState(key.workspaceId, key.jobId)])))
  // A plain function: the declaration emit cannot name better-sqlite3's Transaction type.
  const routingStates = (keys: readonly RoutingKey[]): Map<string, RoutingState> => readRoutingStates(keys)

  function insert (webhook: NewWebhook, now: Date): Webhook {
    const options = subscriptionOptions(webhook)
    conflictOnDuplicate('webhook', () => insertWebhook.run({
      id: webhook.id,
      workspace_id: webhook.workspaceId,
      url: webhook.url,
      events: JSON.stringify(webhook.events),
      name: webhook.name,
      signing_method: webhook.signingMethod,
      secret: webhook.secret,
      scope_type: webhook.scopeType,
      persona_id: webhook.personaId,
      enabled: webhook.enabled ? 1 : 0,
      job_id: webhook.jobId,
      timeout_ms: webhook.timeoutMs,
      max_retries: webhook.maxRetries,
      backoff_ms: webhook.backoffMs,
      ordering: options.ordering,
      payload_filter: options.filter === null ? null : JSON.stringify(options.filter),
      custom_headers: options.headers === null ? null : JSON.stringify(options.headers),
      rate_limit_per_s: options.rateLimitPerS,
      created_at: toMs(now),
      updated_at: toMs(now),
      previous_secret: webhook.previousSecret ?? null,
      previous_secret_expires_at: webhook.previousSecretExpiresAt == null ? null : toMs(webhook.previousSecretExpiresAt),
      retry_schedule_ms: webhook.retryScheduleMs == null ? null : JSON.stringify(webhook.retryScheduleMs),
      disabled_reason: webhook.enabled ? null : 'manual',
      disabled_at: webhook.enabled ? null : toMs(now),
    }))
    const created = get(webhook.workspaceId, webhook.id)
    if (created === null) throw new Error(`webhook ${webhook.id} was not stored`)
    return created
  }

  function get (workspaceId: string, id: string): Webhook | null {
    const row = selectWebhook.get(id, workspaceId)
    return row === undefined ? null : toWebhook(row)
  }

  const remove = db.transaction((workspaceId: string, id: string, now: number, reason: string): boolean => {
    if (markDeleted.run({ id, workspaceId, now }).changes === 0) return false
    failPending.run({ id, now, error: reason })
    return true
  })

  const createCallTx = db.transaction((call: Call, inlineWebhooks: readonly NewWebhook[]): void => {
    upsertCall.run({
      workspaceId: call.workspaceId,
      jobId: call.jobId,
      personaId: call.personaId,
      hasInline: call.hasInlineWebhooks ? 1 : 0,
      createdAt: toMs(call.createdAt),
    })
    for (const webhook of inlineWebhooks) insert(webhook, call.createdAt)
  })

  return {
    createWebhook: insert,
    getWebhook: get,
    listWebhooks (workspaceId: string): Webhook[] {
      return selectWebhooks.all(workspaceId).map(toWebhook)
    },
    routeWebhooks (workspaceId: string, filters: readonly string[], personaId: string | null): Webhook[] {
      if (filters.length === 0) return []
      const rows = routeStatement(filters.length).all(workspaceId, ...filters, personaId)
      return (rows.length > 1 ? distinctOldestFirst(rows) : rows).map(toWebhook)
    },
    routingState,
    routingStates,
    updateWebhook (workspaceId: string, id: string, patch: WebhookPatch, now: Date): Webhook | null {
      const keys = Object.keys(patch).filter(isPatchKey).filter((key) => patch[key] !== undefined).sort()
      const cacheKey = keys.join(',')
      let statement = updates.get(cacheKey)
      if (statement === undefined) {
        const sets = keys.map((key) => `${PATCH_COLUMNS[key].column} = @${key}`)
        // The flag and the reason go together: "manual" when turned off here, none when on.
        if (keys.includes('enabled')) {
          sets.push("disabled_reason = CASE WHEN @enabled = 1 THEN NULL ELSE COALESCE(disabled_reason, 'manual') END",
            'disabled_at = CASE WHEN @enabled = 1 THEN NULL ELSE COALESCE(disabled_at, @now) END')
        }
        statement = db.prepare(`UPDATE webhooks SET ${[...sets, 'updated_at = @now'].join(', ')}
          WHERE id = @id AND workspace_id = @workspaceId AND deleted_at IS NULL`)
        updates.set(cacheKey, statement)
      }
      const params: Record<string, unknown> = { id, workspaceId, now: toMs(now) }
      for (const key of keys) {
        const convert = PATCH_COLUMNS[key].toDb as (value: unknown) => unknown
        params[key] = convert(patch[key])
      }
      if (statement.run(params).changes === 0) return null
      return get(workspaceId, id)
    },
    deleteWebhook (workspaceId: string, id: string, now: Date, reason: string = WEBHOOK_DELETED_ERROR): boolean {
      return remove.immediate(workspaceId, id, toMs(now), reason)
    },
    createCall (call: Call, inlineWebhooks: readonly NewWebhook[]): void {
      createCallTx.immediate(call, inlineWebhooks)
    },
    listInlineWebhooks (workspaceId: string, jobId: string): Webhook[] {
      return selectInline.all(workspaceId, jobId).map(toWebhook)
    },
  }
}
