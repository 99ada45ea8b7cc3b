import type { Database } from 'better-sqlite3'
import type { RecordEventInput, RecordEventResult } from '../../store.js'
import type { Outcome } from '../group-commit.js'
import { withRelaxedSync } from '../relaxed-sync.js'
import { toMs } from '../rows.js'

/**
 * The outbox write: the event, every delivery and the call in one transaction, so an accepted
 * event always has all its deliveries (docs/wire-format.md#delivery-policy "Nothing accepted is ever lost"). Idempotent
 * by (workspace, event id): a repeat writes nothing and reports the deliveries made the first time.
 * Runs a batch of events (see group-commit.ts); each event is atomic on its own. The batch commits
 * with synchronous=NORMAL: the store fsyncs the WAL off the main thread before anyone is told the
 * events were accepted (wal-sync.ts), so durability is FULL's without blocking the event loop.
 */
/** insertDelivery's values, in its column order. */
type DeliveryValues = [
  id: string, workspaceId: string, eventId: string, eventType: string, webhookId: string, url: string, status: string,
  maxAttempts: number, nextAttemptAt: number | null, createdAt: number, updatedAt: number, held: number, skipBreaker: number,
  leaseToken: string | null, leaseOwner: string | null, leaseExpiresAt: number | null,
]

export function prepareRecordEvent (db: Database) {
  const insertEvent = db.prepare(`INSERT INTO events (workspace_id, id, type, body, created_at, job_id, contact_id)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, id) DO NOTHING`)
  const countDeliveries = db.prepare<[string, string], { n: number }>(
    'SELECT COUNT(*) AS n FROM deliveries WHERE workspace_id = ? AND event_id = ?')
  // Positional parameters: better-sqlite3 binds named ones by looking each name up on the object,
  // a fifth of an event's store time with 17 of them (docs/performance.md, "Ninth round").
  const insertDelivery = db.prepare<DeliveryValues>(`INSERT INTO deliveries
    (id, workspace_id, event_id, event_type, webhook_id, url, status, attempt_count, max_attempts,
     next_attempt_at, created_at, updated_at, held, skip_breaker, lease_token, lease_owner, lease_expires_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  // Per-call ordering (Store NewDelivery.orderKey, src/store/order-lanes.ts): the place after the
  // call's last one (whatever that delivery's status: places are never reused, so parked and
  // recovered deliveries keep theirs), and waiting (next_attempt_at NULL) while the call has a
  // pending delivery.
  const insertOrdered = db.prepare(`INSERT INTO deliveries
    (id, workspace_id, event_id, event_type, webhook_id, url, status, attempt_count, max_attempts,
     next_attempt_at, order_key, order_seq, created_at, updated_at, held, skip_breaker, lease_token, lease_owner, lease_expires_at)
    SELECT @id, @workspaceId, @eventId, @eventType, @webhookId, @url, @status, 0, @maxAttempts,
      CASE WHEN lane.busy THEN NULL ELSE @nextAttemptAt END, @orderKey, COALESCE(lane.last, 0) + 1, @createdAt, @createdAt,
      @held, @skipBreaker, @leaseToken, @leaseOwner, @leaseExpiresAt
    FROM (SELECT MAX(order_seq) AS last, MAX(status = 'pending') AS busy FROM deliveries INDEXED BY deliveries_order
          WHERE webhook_id = @webhookId AND order_key = @orderKey AND order_key IS NOT NULL) AS lane`)
  // The latest non-null persona wins: a later event of the same job without persona_id keeps the
  // one learnt before. A call already known with that persona is not written again.
  const upsertCall = db.prepare(`INSERT INTO calls (workspace_id, job_id, persona_id, has_inline_webhooks, created_at)
    VALUES (?, ?, ?, 0, ?)
    ON CONFLICT (workspace_id, job_id) DO UPDATE SET persona_id = excluded.persona_id
    WHERE excluded.persona_id IS NOT NULL AND excluded.persona_id IS NOT calls.persona_id`)

  function recordOne (input: RecordEventInput): RecordEventResult {
    const { event } = input
    const createdAt = toMs(event.createdAt)
    const keys = input.keys
    if (insertEvent.run(event.workspaceId, event.id, event.type, event.body, createdAt, keys?.jobId ?? null, keys?.contactId ?? null).changes === 0) {
      const existing = countDeliveries.get(event.workspaceId, event.id)
      return { created: false, eventId: event.id, deliveries: existing?.n ?? 0 }
    }
    for (const delivery of input.deliveries) {
      const status = delivery.status ?? 'pending'
      // A parked delivery has no next attempt until its webhook is enabled.
      const nextAttemptAt = delivery.status === 'parked' ? null : toMs(delivery.nextAttemptAt)
      const held = delivery.held === true ? 1 : 0
      const skipBreaker = delivery.skipBreaker === true ? 1 : 0
      const leaseToken = delivery.lease?.token ?? null
      const leaseOwner = delivery.lease?.owner ?? null
      const leaseExpiresAt = delivery.lease === undefined ? null : toMs(delivery.lease.expiresAt)
      const orderKey = delivery.orderKey ?? null
      if (orderKey === null) {
        insertDelivery.run(delivery.id, event.workspaceId, event.id, event.type, delivery.webhookId, delivery.url, status,
          delivery.maxAttempts, nextAttemptAt, createdAt, createdAt, held, skipBreaker, leaseToken, leaseOwner, leaseExpiresAt)
        continue
      }
      insertOrdered.run({
        orderKey,
        leaseToken,
        leaseOwner,
        leaseExpiresAt,
        id: delivery.id,
        workspaceId: event.workspaceId,
        eventId: event.id,
        eventType: event.type,
        webhookId: delivery.webhookId,
        url: delivery.url,
        maxAttempts: delivery.maxAttempts,
        status,
        nextAttemptAt,
        held,
        skipBreaker,
        createdAt,
      })
    }
    if (input.call !== undefined) {
      upsertCall.run(event.workspaceId, input.call.jobId, input.call.personaId, createdAt)
    }
    return { created: true, eventId: event.id, deliveries: input.deliveries.length }
  }

  // Many events in one write transaction. Usually none fails, and they run without savepoints: a
  // savepoint copies every page an event first touches into its journal (malloc and 4 KiB memcpy
  // for each of ~20 b-tree pages), pure overhead for a batch that commits whole.
  let eventFailed = false
  const recordAll = db.transaction((inputs: readonly RecordEventInput[]): Array<Outcome<RecordEventResult>> =>
    inputs.map((input) => {
      try {
        return { ok: true, value: recordOne(input) }
      } catch (error) {
        eventFailed = true
        throw error
      }
    }))
  // Should an event fail, that transaction rolled back entirely, and the batch runs again with each
  // event in its own savepoint (better-sqlite3 nests a transaction function as a SAVEPOINT), so
  // that the failing event rolls back alone and the others commit.
  const recordInSavepoint = db.transaction(recordOne)
  const recordEach = db.transaction((inputs: readonly RecordEventInput[]): Array<Outcome<RecordEventResult>> =>
    inputs.map((input) => {
      try {
        return { ok: true, value: recordInSavepoint(input) }
      } catch (error) {
        return { ok: false, error }
      }
    }))

  return (inputs: readonly RecordEventInput[]): Array<Outcome<RecordEventResult>> => withRelaxedSync(db, () => {
    eventFailed = false
    try {
      return recordAll.immediate(inputs)
    } catch (error) {
      // Only an event's own failure runs the batch again: BEGIN or COMMIT failing (the write
      // lock's busy timeout, a full disk) would fail the same way, after as long a wait.
      if (!eventFailed) throw error
      return recordEach.immediate(inputs)
    }
  })
}
