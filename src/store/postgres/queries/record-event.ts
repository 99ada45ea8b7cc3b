/**
 * recordEvent: the event, its deliveries and the call it belongs to, in one statement (outbox
 * style: once this commits the event will be delivered or recorded as failed). Idempotent by
 * (workspace, event id): a second call with the same id writes nothing and reports the
 * deliveries the first one created.
 */
import type pg from 'pg'
import type { RecordEventInput, RecordEventResult } from '../../store.js'
import { transaction } from '../transaction.js'

export async function recordEvent (db: pg.Pool | pg.PoolClient, input: RecordEventInput): Promise<RecordEventResult> {
  const { event, deliveries } = input
  const createdAtMs = event.createdAt.getTime()
  // ONE statement, so one round trip and one implicit transaction: data-modifying CTEs all run
  // or none do. The deliveries and the call are written only when the event row is new. Other
  // processes are told after the commit (work-listener.ts), never inside this transaction.
  const result = await db.query<{ created: number, deliveries: number }>({
    // Named: parsed and planned once per connection, not at every event.
    name: 'kejue-record-event',
    text: `WITH e AS (
       INSERT INTO events (workspace_id, id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace_id, id) DO NOTHING
       RETURNING id
     ), d AS (
       INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
         attempt_count, max_attempts, next_attempt_at, created_at, updated_at)
       SELECT t.id, $1, $2, $3, t.webhook_id, coalesce(w.job_id IS NOT NULL, false), t.url, 'pending',
         0, t.max_attempts, t.next_attempt_at, $5, $5
       FROM unnest($6::text[], $7::text[], $8::text[], $9::int[], $10::bigint[])
         AS t(id, webhook_id, url, max_attempts, next_attempt_at)
       LEFT JOIN webhooks w ON w.id = t.webhook_id
       WHERE EXISTS (SELECT 1 FROM e)
       RETURNING 1
     ), c AS (
       -- Remember the call's persona for its later events: the latest non-null persona wins
       -- (an event without persona_id keeps the one learnt before). A call already known with
       -- that persona is not touched: the upsert would lock its row, and every event of one call
       -- would wait for the commit of the one before (seen as Lock:transactionid waits).
       INSERT INTO calls (workspace_id, job_id, persona_id, has_inline_webhooks, created_at)
       SELECT $1, $11::text, $12::text, false, $5
       WHERE $11::text IS NOT NULL AND EXISTS (SELECT 1 FROM e)
         AND NOT EXISTS (SELECT 1 FROM calls k WHERE k.workspace_id = $1 AND k.job_id = $11::text
           AND k.persona_id IS NOT DISTINCT FROM coalesce($12::text, k.persona_id))
       ON CONFLICT (workspace_id, job_id) DO UPDATE SET persona_id = coalesce(EXCLUDED.persona_id, calls.persona_id)
       RETURNING 1
     ), counts AS (
       SELECT (SELECT count(*) FROM e)::int AS created, (SELECT count(*) FROM d)::int AS deliveries,
         (SELECT count(*) FROM c)::int AS calls
     )
     SELECT created, deliveries FROM counts`,
    values: [event.workspaceId, event.id, event.type, event.body, createdAtMs,
      deliveries.map((d) => d.id), deliveries.map((d) => d.webhookId), deliveries.map((d) => d.url),
      deliveries.map((d) => d.maxAttempts), deliveries.map((d) => d.nextAttemptAt.getTime()),
      input.call?.jobId ?? null, input.call?.personaId ?? null],
  })
  const row = result.rows[0]
  if (row !== undefined && row.created > 0) return { created: true, eventId: event.id, deliveries: row.deliveries }
  const existing = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = $1 AND event_id = $2',
    [event.workspaceId, event.id])
  return { created: false, eventId: event.id, deliveries: existing.rows[0]?.n ?? 0 }
}

/**
 * Group commit for recordEvent: calls made in the same turn of the event loop share ONE
 * transaction, so one WAL flush (the commit's fsync, ~2 ms here) serves them all instead of one
 * each. Each caller's promise settles only after that commit. If the shared transaction fails
 * (one bad event, or its connection died mid-batch), every call is retried on its own, so one bad
 * event never fails its neighbours and every caller gets its own answer: recorded (an event the
 * lost commit did store is found by its id), or the error, which is 503 STORE_UNAVAILABLE while
 * the database is away (docs/storage.md). Connection attempts time out, so no caller waits forever.
 */
export function createRecordEventBatcher (pool: pg.Pool): (input: RecordEventInput) => Promise<RecordEventResult> {
  interface Pending { input: RecordEventInput, resolve: (r: RecordEventResult) => void, reject: (e: unknown) => void }
  let queue: Pending[] = []

  async function flush (): Promise<void> {
    const batch = queue
    queue = []
    if (batch.length === 1) {
      const [only] = batch as [Pending]
      await recordEvent(pool, only.input).then(only.resolve, only.reject)
      return
    }
    try {
      const results = await transaction(pool, async (client) => {
        const out: RecordEventResult[] = []
        for (const pending of batch) out.push(await recordEvent(client, pending.input))
        return out
      })
      batch.forEach((pending, i) => { pending.resolve(results[i] as RecordEventResult) })
    } catch {
      await Promise.all(batch.map(async (pending) => { await recordEvent(pool, pending.input).then(pending.resolve, pending.reject) }))
    }
  }

  return (input) => new Promise<RecordEventResult>((resolve, reject) => {
    queue.push({ input, resolve, reject })
    if (queue.length === 1) setImmediate(() => { void flush() })
  })
}
