/**
 * recordEvent on PostgreSQL: one statement for all the events that arrive in one turn of the
 * event loop (group commit).
 */
import { setTimeout as delay } from 'node:timers/promises'
import type pg from 'pg'
import type { BatchGather } from '../../batch-gather.js'
import type { RecordEventInput, RecordEventResult } from '../../store.js'
import { transaction } from '../transaction.js'
import { isQueryReadTimeout } from '../pg-errors.js'
import { orderLaneKey, orderLanesOf } from '../../order-lanes.js'
import type { OrderLane } from '../../order-lanes.js'

/**
 * Per-call ordering (Store NewDelivery.orderKey, docs/delivery.md, src/store/order-lanes.ts): a
 * delivery takes the place after the last one of its (webhook, call) queue (whatever that
 * delivery's status: places are never reused, so parked and recovered deliveries keep theirs)
 * and waits (next_attempt_at NULL) while the queue has a pending delivery. Only events with
 * ordered deliveries take this form of the statement, alone in a transaction that holds their
 * queues' locks (recordOrderedEvent); every other event runs the statement without it.
 */
const ORDERED_DELIVERY = {
  // The status is tested in the aggregate, not as a condition, so that the queue is read through
  // deliveries_order, never through an index of all the webhook's pending deliveries.
  nextAttemptAt: `CASE WHEN t.order_key IS NOT NULL AND (SELECT bool_or(x.status = 'pending') FROM deliveries x
           WHERE x.webhook_id = t.webhook_id AND x.order_key = t.order_key)
         THEN NULL ELSE t.next_attempt_at END`,
  orderSeq: `CASE WHEN t.order_key IS NOT NULL THEN coalesce((SELECT max(x.order_seq) FROM deliveries x
           WHERE x.webhook_id = t.webhook_id AND x.order_key = t.order_key), 0) + 1 END`,
}

/**
 * Events, their deliveries and the calls they belong to, in ONE statement (one round trip, one
 * implicit transaction: data-modifying CTEs all run or none do; outbox style, once it commits
 * the events will be delivered or recorded as failed). Idempotent by (workspace, event id): an
 * event already stored writes nothing and reports the deliveries the first one created. Each
 * event's id must be unique within `inputs` (the batcher records repeats on their own, after).
 * Other processes are told after the commit (work-listener.ts), never inside it.
 * Returns one result per input, in order.
 */
export async function recordEvents (db: pg.Pool | pg.PoolClient, inputs: readonly RecordEventInput[], ordered = false): Promise<RecordEventResult[]> {
  const events = inputs.map((i) => i.event)
  const deliveries = inputs.flatMap((input, n) => input.deliveries.map((d) => ({ n, d })))
  const calls = inputs.flatMap((input, n) => input.call === undefined ? [] : [{ n, call: input.call }])
  const result = await db.query<{ n: number, deliveries: number }>({
    name: ordered ? 'kejue-record-ordered-events' : 'kejue-record-events',
    // Deliveries and calls only for events that are new. A call remembers its persona for its
    // later events: the latest non-null persona wins (DISTINCT ON: one row per call, as an upsert
    // may touch a row once per statement). A call already known with that persona is not
    // rewritten: the upsert would lock its row, and every event of one call would wait for the
    // commit of the one before (seen as Lock:transactionid waits).
    text: `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $18::text[], $19::text[])
         WITH ORDINALITY AS t(workspace_id, id, type, body, created_at, job_id, contact_id, n)
     ), e AS (
       INSERT INTO events (workspace_id, id, type, body, created_at, job_id, contact_id)
       SELECT workspace_id, id, type, body, created_at, job_id, contact_id FROM input ORDER BY n
       ON CONFLICT (workspace_id, id) DO NOTHING
       RETURNING workspace_id, id
     ), created AS (
       SELECT i.* FROM input i JOIN e ON e.workspace_id = i.workspace_id AND e.id = i.id
     ), d AS (
       INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
         attempt_count, max_attempts, next_attempt_at, ${ordered ? 'order_key, order_seq, ' : ''}created_at, updated_at, held, skip_breaker, lease_token, lease_owner, lease_expires_at)
       SELECT t.id, c.workspace_id, c.id, c.type, t.webhook_id, coalesce(w.job_id IS NOT NULL, false), t.url, t.status,
         0, t.max_attempts, ${ordered ? `${ORDERED_DELIVERY.nextAttemptAt}, t.order_key, ${ORDERED_DELIVERY.orderSeq}` : 't.next_attempt_at'},
         c.created_at, c.created_at, t.held, t.skip_breaker, t.lease_token, t.lease_owner, t.lease_expires_at
       FROM unnest($6::int[], $7::text[], $8::text[], $9::text[], $10::int[], $11::bigint[], $15::text[], $16::boolean[], $17::boolean[], $20::text[], $21::text[], $22::bigint[]${ordered ? ', $23::text[]' : ''})
         AS t(n, id, webhook_id, url, max_attempts, next_attempt_at, status, held, skip_breaker, lease_token, lease_owner, lease_expires_at${ordered ? ', order_key' : ''})
       JOIN created c ON c.n = t.n
       LEFT JOIN webhooks w ON w.id = t.webhook_id
       RETURNING workspace_id, event_id
     ), call_input AS (
       SELECT DISTINCT ON (c.workspace_id, t.job_id) c.workspace_id, t.job_id, t.persona_id, c.created_at
       FROM unnest($12::int[], $13::text[], $14::text[]) AS t(n, job_id, persona_id)
       JOIN created c ON c.n = t.n
       ORDER BY c.workspace_id, t.job_id, t.persona_id IS NULL, t.n DESC
     ), calls_written AS (
       INSERT INTO calls (workspace_id, job_id, persona_id, has_inline_webhooks, created_at)
       SELECT t.workspace_id, t.job_id, t.persona_id, false, t.created_at FROM call_input t
       WHERE NOT EXISTS (SELECT 1 FROM calls k WHERE k.workspace_id = t.workspace_id AND k.job_id = t.job_id
         AND k.persona_id IS NOT DISTINCT FROM coalesce(t.persona_id, k.persona_id))
       ON CONFLICT (workspace_id, job_id) DO UPDATE SET persona_id = coalesce(EXCLUDED.persona_id, calls.persona_id)
       RETURNING 1
     )
     SELECT c.n::int AS n, count(d.event_id)::int AS deliveries
     FROM created c LEFT JOIN d ON d.workspace_id = c.workspace_id AND d.event_id = c.id
     GROUP BY c.n`,
    values: [
      events.map((e) => e.workspaceId), events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.body),
      events.map((e) => e.createdAt.getTime()),
      deliveries.map((x) => x.n + 1), deliveries.map((x) => x.d.id), deliveries.map((x) => x.d.webhookId),
      deliveries.map((x) => x.d.url), deliveries.map((x) => x.d.maxAttempts),
      // A parked delivery has no next attempt until its webhook is enabled.
      deliveries.map((x) => (x.d.status === 'parked' ? null : x.d.nextAttemptAt.getTime())),
      calls.map((x) => x.n + 1), calls.map((x) => x.call.jobId), calls.map((x) => x.call.personaId),
      deliveries.map((x) => x.d.status ?? 'pending'), deliveries.map((x) => x.d.held === true),
      deliveries.map((x) => x.d.skipBreaker === true),
      inputs.map((i) => i.keys?.jobId ?? null), inputs.map((i) => i.keys?.contactId ?? null),
      // Handed to this process's engine at acceptance (delivery/handoff.ts): recorded leased.
      deliveries.map((x) => x.d.lease?.token ?? null), deliveries.map((x) => x.d.lease?.owner ?? null),
      deliveries.map((x) => x.d.lease?.expiresAt.getTime() ?? null),
      ...(ordered ? [deliveries.map((x) => x.d.orderKey ?? null)] : []),
    ],
  })
  const createdCounts = new Map(result.rows.map((row) => [row.n - 1, row.deliveries]))
  return await Promise.all(inputs.map(async (input, n) => {
    const count = createdCounts.get(n)
    if (count !== undefined) return { created: true, eventId: input.event.id, deliveries: count }
    return { created: false, eventId: input.event.id, deliveries: await existingDeliveries(db, input) }
  }))
}

async function existingDeliveries (db: pg.Pool | pg.PoolClient, input: RecordEventInput): Promise<number> {
  const existing = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = $1 AND event_id = $2',
    [input.event.workspaceId, input.event.id])
  return existing.rows[0]?.n ?? 0
}

/** The (webhook, call) queues an event's ordered deliveries join, sorted. */
export function orderLanes (input: RecordEventInput): OrderLane[] {
  return orderLanesOf(input.deliveries.map((d) => ({ webhook_id: d.webhookId, order_key: d.orderKey ?? null })))
}

/**
 * Serializes the writers of the given (webhook, call) queues until the transaction ends: the
 * statements after it see every delivery committed before, and nobody adds to or releases from
 * these queues meanwhile. Each queue's webhook is locked too, shared: enable and recover, which
 * put back deliveries of any number of a webhook's calls at once, lock the webhook alone,
 * exclusively (lockWebhookOrderLanes), since a lock per call could outgrow PostgreSQL's lock
 * table (max_locks_per_transaction × connections: about 6,400 by default). Webhooks before
 * queues, each in sorted order, so two writers never wait on each other in a cycle. The keys:
 * the webhook id, and "<webhook id> <call>" for a queue.
 */
export async function lockOrderLanes (client: pg.PoolClient, lanes: readonly OrderLane[]): Promise<void> {
  if (lanes.length === 0) return
  const webhooks = [...new Set(lanes.map((lane) => lane.webhookId))].sort()
  await client.query(`SELECT count(*) FROM (
      SELECT pg_advisory_xact_lock_shared(hashtextextended(w, 0)) FROM unnest($1::text[]) AS u(w)
      UNION ALL
      SELECT pg_advisory_xact_lock(hashtextextended(l, 0)) FROM unnest($2::text[]) AS v(l)
    ) AS taken`, [webhooks, lanes.map((lane) => orderLaneKey(lane.webhookId, lane.orderKey))])
}

/** Every (webhook, call) queue of one webhook at once, until the transaction ends (see lockOrderLanes). */
export async function lockWebhookOrderLanes (client: pg.PoolClient, webhookId: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [webhookId])
}

/**
 * An event with ordered deliveries: alone in a transaction that first locks its queues, so that
 * it sees a queue's last pending delivery even if it settled a moment ago in another process
 * (completeAttempts releases the next one under the same lock), and so that one transaction never
 * holds the locks of several events' queues (two batches could then deadlock).
 */
async function recordOrderedEvent (pool: pg.Pool, input: RecordEventInput): Promise<RecordEventResult> {
  const [result] = await transaction(pool, async (client) => {
    await lockOrderLanes(client, orderLanes(input))
    return await recordEvents(client, [input], true)
  })
  return result as RecordEventResult
}

/** How long closing waits for the event writes under way. */
const CLOSE_WAIT_MS = 5_000

/**
 * Group commit for recordEvent: calls made in the same turn of the event loop (or within the
 * gather, batch-gather.ts) share ONE statement (recordEvents), so one round trip and one WAL
 * flush (the commit's fsync, ~2 ms here) serve them all instead of one each. Each caller's promise settles only after that commit. An
 * event id repeated within a turn is recorded after the others, on its own (it finds the first).
 * If the shared statement fails
 * (one bad event, or its connection died mid-batch), every call is retried on its own, so one bad
 * event never fails its neighbours and every caller gets its own answer: recorded (an event the
 * lost commit did store is found by its id), or the error, which is 503 STORE_UNAVAILABLE while
 * the database is away (docs/storage.md). Connection attempts time out, so no caller waits forever;
 * a batch whose statement got no answer within the query timeout (a silent connection) is not
 * retried: each caller gets its 503 after one timeout, not two.
 */
export function createRecordEventBatcher (pool: pg.Pool, gather: BatchGather): {
  record: (input: RecordEventInput) => Promise<RecordEventResult>
  /** Runs what is queued now, gathering or not, and waits for every write under way (before the pool closes). */
  flush: () => Promise<void>
} {
  interface Pending { input: RecordEventInput, resolve: (r: RecordEventResult) => void, reject: (e: unknown) => void }
  let queue: Pending[] = []

  async function writeQueued (): Promise<void> {
    const batch = queue
    if (batch.length === 0) return
    queue = []
    gather.ran(batch.length)
    if (batch.length === 1) {
      const [only] = batch as [Pending]
      await recordEvents(pool, [only.input]).then(([r]) => r as RecordEventResult).then(only.resolve, only.reject)
      return
    }
    const seen = new Set<string>()
    const first: Pending[] = []
    const repeats: Pending[] = []
    for (const pending of batch) {
      const key = `${pending.input.event.workspaceId}\u0000${pending.input.event.id}`
      if (seen.has(key)) repeats.push(pending)
      else {
        seen.add(key)
        first.push(pending)
      }
    }
    try {
      const results = await recordEvents(pool, first.map((pending) => pending.input))
      first.forEach((pending, i) => { pending.resolve(results[i] as RecordEventResult) })
    } catch (err) {
      // No answer within the query timeout: the network, not one event, failed, and a retry could
      // be handed another silent pooled connection and wait as long again. Every caller gets its
      // 503 now (and sends again; the event id makes that safe).
      if (isQueryReadTimeout(err)) {
        for (const pending of [...first, ...repeats]) pending.reject(err)
        return
      }
      await Promise.all(first.map(async (pending) => { await recordEvents(pool, [pending.input]).then(([r]) => r as RecordEventResult).then(pending.resolve, pending.reject) }))
    }
    for (const pending of repeats) await recordEvents(pool, [pending.input]).then(([r]) => r as RecordEventResult).then(pending.resolve, pending.reject)
  }

  // Writes under way, so that close waits for every statement they still send.
  const running = new Set<Promise<unknown>>()
  function track (work: Promise<unknown>): void {
    running.add(work)
    void work.catch(() => {}).finally(() => running.delete(work))
  }

  const record = (input: RecordEventInput): Promise<RecordEventResult> => new Promise<RecordEventResult>((resolve, reject) => {
    if (orderLanes(input).length > 0) {
      const ordered = recordOrderedEvent(pool, input)
      track(ordered)
      ordered.then(resolve, reject)
      return
    }
    queue.push({ input, resolve, reject })
    if (queue.length === 1) {
      const mine = queue
      gather.schedule(() => { if (queue === mine) track(writeQueued()) })
    }
  })
  return {
    record,
    async flush () {
      track(writeQueued())
      // Bounded: with the database away each write waits out a connection timeout (10 s) and its
      // retries as many again; past this, close goes on and those callers get its error.
      const deadline = Date.now() + CLOSE_WAIT_MS
      for (let left = CLOSE_WAIT_MS; running.size > 0 && left > 0; left = deadline - Date.now()) {
        await Promise.race([Promise.allSettled(running), delay(left, undefined, { ref: false })])
      }
    },
  }
}
