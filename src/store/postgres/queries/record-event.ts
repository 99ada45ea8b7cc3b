/**
 * recordEvent: the event, its deliveries and the call it belongs to, in one transaction (outbox
 * style: once this commits the event will be delivered or recorded as failed). Idempotent by
 * (workspace, event id): a second call with the same id writes nothing and reports the
 * deliveries the first one created.
 */
import type pg from 'pg'
import type { RecordEventInput, RecordEventResult } from '../../store.js'
import { transaction } from '../transaction.js'
import { WORK_CHANNEL } from '../work-listener.js'

export async function recordEvent (db: pg.Pool, schema: string | null, input: RecordEventInput): Promise<RecordEventResult> {
  const { event, deliveries } = input
  const createdAtMs = event.createdAt.getTime()
  return await transaction(db, async (client) => {
    const inserted = await client.query(
      `INSERT INTO events (workspace_id, id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace_id, id) DO NOTHING`,
      [event.workspaceId, event.id, event.type, event.body, createdAtMs])
    if ((inserted.rowCount ?? 0) === 0) {
      const existing = await client.query<{ n: number }>(
        'SELECT count(*) AS n FROM deliveries WHERE workspace_id = $1 AND event_id = $2',
        [event.workspaceId, event.id])
      return { created: false, eventId: event.id, deliveries: existing.rows[0]?.n ?? 0 }
    }
    if (deliveries.length > 0) {
      // One multi-row insert; `inline` is read from the webhook row as it is now.
      await client.query(
        `INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
           attempt_count, max_attempts, next_attempt_at, created_at, updated_at)
         SELECT t.id, $1, $2, $3, t.webhook_id, coalesce(w.job_id IS NOT NULL, false), t.url, 'pending',
           0, t.max_attempts, t.next_attempt_at, $4, $4
         FROM unnest($5::text[], $6::text[], $7::text[], $8::int[], $9::bigint[])
           AS t(id, webhook_id, url, max_attempts, next_attempt_at)
         LEFT JOIN webhooks w ON w.id = t.webhook_id`,
        [event.workspaceId, event.id, event.type, createdAtMs,
          deliveries.map((d) => d.id), deliveries.map((d) => d.webhookId), deliveries.map((d) => d.url),
          deliveries.map((d) => d.maxAttempts), deliveries.map((d) => d.nextAttemptAt.getTime())])
    }
    if (input.call !== undefined) {
      // Remember the call's persona for its later events; a persona learnt once is kept.
      await client.query(
        `INSERT INTO calls (workspace_id, job_id, persona_id, has_inline_webhooks, created_at)
         VALUES ($1, $2, $3, false, $4)
         ON CONFLICT (workspace_id, job_id) DO UPDATE SET persona_id = coalesce(calls.persona_id, EXCLUDED.persona_id)`,
        [event.workspaceId, input.call.jobId, input.call.personaId, createdAtMs])
    }
    if (deliveries.length > 0) {
      // Delivered at commit, so listeners in other processes never wake before the rows exist.
      await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, schema ?? ''])
    }
    return { created: true, eventId: event.id, deliveries: deliveries.length }
  })
}
