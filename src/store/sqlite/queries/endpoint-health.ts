import type { Database } from 'better-sqlite3'
import { DISCARDED_ERROR, ERASED_ERROR } from '../../store.js'
import type { DisabledReason, HealthUpdate, RecoverInput, Webhook } from '../../store.js'
import { healthParams } from '../../rows.js'
import { toWebhook, WEBHOOK_COLUMNS } from '../rows.js'
import type { WebhookRow } from '../rows.js'
import { withRelaxedSync } from '../relaxed-sync.js'
import { orderLanesOf } from '../../order-lanes.js'
import type { OrderedRow } from '../../order-lanes.js'
import { prepareReleaseLanes } from './order-lanes.js'

interface LeaseRef { deliveryId: string, leaseToken: string }

const HEALTH_SET = `consecutive_failures = @consecutive_failures, breaker = @breaker,
  breaker_probe_at = @breaker_probe_at, breaker_cooldown_ms = @breaker_cooldown_ms,
  last_success_at = @last_success_at, failed_deliveries_in_row = @failed_deliveries_in_row,
  failing_since = @failing_since`

/**
 * Endpoint health (docs/delivery.md, "The life of an endpoint"): the statements that keep it and
 * act on it — disable (parking), enable (replay or discard), breaker probes and held first
 * attempts, recovery. The rules deciding when are in src/delivery/endpoint-health.ts.
 */
export function prepareEndpointHealth (db: Database) {
  const selectById = db.prepare<[string], WebhookRow>(
    `SELECT ${WEBHOOK_COLUMNS.join(', ')} FROM webhooks WHERE id = ? AND deleted_at IS NULL`)
  const selectOne = db.prepare<[string, string], WebhookRow>(
    `SELECT ${WEBHOOK_COLUMNS.join(', ')} FROM webhooks WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`)
  const writeHealth = db.prepare(`UPDATE webhooks SET ${HEALTH_SET} WHERE id = @id`)
  const markDisabled = db.prepare(`UPDATE webhooks SET enabled = 0, disabled_reason = @reason, disabled_at = @now, updated_at = @now
    WHERE id = @id AND deleted_at IS NULL`)
  // An attempt in flight (live lease) finishes; the engine parks it if it comes back pending.
  const parkFree = db.prepare(`UPDATE deliveries SET status = 'parked', next_attempt_at = NULL, held = 0, updated_at = @now,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE webhook_id = @id AND status = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= @now)`)
  const releaseHeld = db.prepare(`UPDATE deliveries SET next_attempt_at = @now, held = 0
    WHERE webhook_id = @id AND status = 'pending' AND held = 1`)
  const moveHeld = db.prepare(`UPDATE deliveries SET next_attempt_at = @until
    WHERE webhook_id = @id AND status = 'pending' AND held = 1 AND (lease_expires_at IS NULL OR lease_expires_at <= @now)`)
  const markEnabled = db.prepare(`UPDATE webhooks SET enabled = 1, disabled_reason = NULL, disabled_at = NULL, updated_at = @now,
      consecutive_failures = 0, breaker = 'closed', breaker_probe_at = NULL, breaker_cooldown_ms = 0,
      failed_deliveries_in_row = 0, failing_since = NULL
    WHERE id = @id AND workspace_id = @workspaceId AND deleted_at IS NULL`)
  // Per-call ordering (src/store/order-lanes.ts): an ordered delivery comes back waiting, in its
  // place; releasing its call's queue afterwards lets the earliest go, unless one is under way.
  const parkedLanes = db.prepare<{ id: string }, OrderedRow>(`SELECT DISTINCT webhook_id, order_key FROM deliveries
    WHERE webhook_id = @id AND status = 'parked' AND order_key IS NOT NULL`)
  const replayParked = db.prepare(`UPDATE deliveries SET status = 'pending',
      next_attempt_at = CASE WHEN order_key IS NULL THEN @now END, held = 0, updated_at = @now
    WHERE webhook_id = @id AND status = 'parked'`)
  const releaseLanes = prepareReleaseLanes(db)
  const discardParked = db.prepare(`UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = '${DISCARDED_ERROR}', updated_at = @now
    WHERE webhook_id = @id AND status = 'parked'`)
  const takeProbe = db.prepare(`UPDATE webhooks SET breaker = 'half_open', breaker_probe_at = @retryAt
    WHERE id = @id AND breaker IN ('open', 'half_open') AND breaker_probe_at <= @now`)
  const holdLeased = db.prepare(`UPDATE deliveries SET next_attempt_at = @until, held = 1,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE id = @id AND lease_token = @token AND status = 'pending'`)
  const holdFree = db.prepare(`UPDATE deliveries SET next_attempt_at = @until, held = 1
    WHERE webhook_id = @id AND status = 'pending' AND attempt_count = 0 AND skip_breaker = 0
      AND next_attempt_at < @until AND (lease_expires_at IS NULL OR lease_expires_at <= @now)`)
  const parkLeased = db.prepare(`UPDATE deliveries SET status = 'parked', next_attempt_at = NULL, held = 0, updated_at = @now,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE id = @id AND lease_token = @token AND status = 'pending'`)
  const RECOVERABLE = `webhook_id = @id AND workspace_id = @workspaceId AND status = 'failed'
      AND created_at >= @since AND (@until IS NULL OR created_at < @until) AND COALESCE(last_error, '') <> '${ERASED_ERROR}'`
  const countRecoverable = db.prepare<Record<string, unknown>, { n: number }>(`SELECT COUNT(*) AS n FROM deliveries WHERE ${RECOVERABLE}`)
  const recoverableLanes = db.prepare<Record<string, unknown>, OrderedRow>(
    `SELECT DISTINCT webhook_id, order_key FROM deliveries WHERE ${RECOVERABLE} AND order_key IS NOT NULL`)
  // Like replay: an ordered delivery waits in its place until its call's queue is released.
  const recover = db.prepare(`UPDATE deliveries SET status = @status,
      next_attempt_at = CASE WHEN @status = 'pending' AND order_key IS NULL THEN @now END,
      max_attempts = attempt_count + 1 + @retries, held = 0, skip_breaker = 0, updated_at = @now,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE ${RECOVERABLE}`)

  /** Disables a webhook and parks its free pending deliveries (inside the caller's transaction). */
  function disable (id: string, reason: DisabledReason, now: number): void {
    if (markDisabled.run({ id, reason, now }).changes > 0) parkFree.run({ id, now })
  }

  /** Carries out a HealthUpdate (inside completeAttempts' transaction); the webhook as it is then. */
  function apply (webhook: Webhook, update: HealthUpdate, now: number): Webhook {
    writeHealth.run({ id: webhook.id, ...healthParams(update.health) })
    if (update.disable !== null && webhook.enabled) disable(webhook.id, update.disable, now)
    if (update.releaseHeld) releaseHeld.run({ id: webhook.id, now })
    if (update.holdUntil !== null) moveHeld.run({ id: webhook.id, until: update.holdUntil.getTime(), now })
    const row = selectById.get(webhook.id)
    return row === undefined ? webhook : toWebhook(row)
  }

  const disableTx = db.transaction((workspaceId: string, id: string, reason: DisabledReason, now: number): Webhook | null => {
    const before = selectOne.get(id, workspaceId)
    if (before === undefined) return null
    if (before.enabled === 1) disable(id, reason, now)
    const row = selectOne.get(id, workspaceId)
    return row === undefined ? null : toWebhook(row)
  })
  const enableTx = db.transaction((workspaceId: string, id: string, replay: boolean, now: number): Webhook | null => {
    const before = selectOne.get(id, workspaceId)
    if (before === undefined) return null
    if (before.enabled === 0) {
      markEnabled.run({ id, workspaceId, now })
      if (replay) {
        const lanes = orderLanesOf(parkedLanes.all({ id }))
        replayParked.run({ id, now })
        releaseLanes(lanes, now)
      } else {
        discardParked.run({ id, now })
      }
    }
    const row = selectOne.get(id, workspaceId)
    return row === undefined ? null : toWebhook(row)
  })
  const holdTx = db.transaction((id: string, leased: readonly LeaseRef[], until: number, now: number): number => {
    let held = 0
    for (const item of leased) held += holdLeased.run({ id: item.deliveryId, token: item.leaseToken, until }).changes
    return held + holdFree.run({ id, until, now }).changes
  })
  const parkTx = db.transaction((items: readonly LeaseRef[], now: number): void => {
    for (const item of items) parkLeased.run({ id: item.deliveryId, token: item.leaseToken, now })
  })
  const recoverTx = db.transaction((input: RecoverInput): { matched: number, requeued: number } => {
    const params = {
      id: input.webhookId,
      workspaceId: input.workspaceId,
      since: input.since.getTime(),
      until: input.until?.getTime() ?? null,
    }
    const matched = countRecoverable.get(params)?.n ?? 0
    if (input.dryRun || matched === 0) return { matched, requeued: 0 }
    const lanes = input.status === 'pending' ? orderLanesOf(recoverableLanes.all(params)) : []
    const now = input.now.getTime()
    const requeued = recover.run({ ...params, status: input.status, now, retries: input.retries }).changes
    releaseLanes(lanes, now)
    return { matched, requeued }
  })

  return {
    apply,
    disableWebhook: (workspaceId: string, id: string, reason: DisabledReason, now: Date): Webhook | null =>
      disableTx.immediate(workspaceId, id, reason, now.getTime()),
    enableWebhook: (workspaceId: string, id: string, replay: boolean, now: Date): Webhook | null =>
      enableTx.immediate(workspaceId, id, replay, now.getTime()),
    takeBreakerProbe: (webhookId: string, now: Date, retryAt: Date): boolean =>
      withRelaxedSync(db, () => takeProbe.run({ id: webhookId, now: now.getTime(), retryAt: retryAt.getTime() }).changes > 0),
    holdFirstAttempts: (webhookId: string, leased: readonly LeaseRef[], until: Date, now: Date): number =>
      withRelaxedSync(db, () => holdTx.immediate(webhookId, leased, until.getTime(), now.getTime())),
    parkDeliveries: (items: readonly LeaseRef[], now: Date): void => {
      if (items.length > 0) withRelaxedSync(db, () => parkTx.immediate(items, now.getTime()))
    },
    recoverDeliveries: (input: RecoverInput): { matched: number, requeued: number } => recoverTx.immediate(input),
  }
}
