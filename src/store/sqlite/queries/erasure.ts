import type { Database } from 'better-sqlite3'
import { ERASED_ERROR } from '../../store.js'
import type { EraseEventsInput, Erasure, StoredEvent } from '../../store.js'
import { toErasure, toEvent } from '../../rows.js'
import type { ErasureRow, EventRow } from '../../rows.js'
import { prepareReleaseLane } from './order-lanes.js'


/** Store.findEventsToErase, eraseEvents and getErasure (docs/privacy.md). */
export function prepareErasure (db: Database) {
  // A full read of the workspace's events: erasures are rare, and an index per id path would
  // cost every event written.
  const select = db.prepare<{ ws: string, contact: string | null, job: string | null }, EventRow>(`
    SELECT workspace_id, id, type, body, created_at FROM events
    WHERE workspace_id = @ws AND (
      (@contact IS NOT NULL AND (json_extract(body, '$.data.contact_id') = @contact OR json_extract(body, '$.data.contact.id') = @contact))
      OR (@job IS NOT NULL AND (json_extract(body, '$.data.job_id') = @job OR json_extract(body, '$.data.call.id') = @job)))
    ORDER BY created_at, id`)
  const updateBody = db.prepare('UPDATE events SET body = @body WHERE workspace_id = @ws AND id = @id')
  const clearExcerpts = db.prepare(`UPDATE attempts SET response_excerpt = NULL
    WHERE response_excerpt IS NOT NULL AND delivery_id IN (SELECT id FROM deliveries WHERE workspace_id = @ws AND event_id = @id)`)
  // 'parked' deliveries are held, not sent: they end the same way.
  const failOpen = db.prepare<{ ws: string, id: string, now: number, error: string }, { webhook_id: string, order_key: string | null }>(`UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = @error,
      updated_at = @now, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
    WHERE workspace_id = @ws AND event_id = @id AND status IN ('pending', 'parked')
    RETURNING webhook_id, order_key`)
  // An erased delivery ends its place in its call's queue: the next one goes (per-call ordering).
  const releaseLane = prepareReleaseLane(db)
  const insert = db.prepare(`INSERT INTO erasures (id, workspace_id, contact_id, job_id, events_matched, created_at)
    VALUES (@id, @workspaceId, @contactId, @jobId, @eventsMatched, @createdAt)`)
  const selectErasure = db.prepare<[string, string], ErasureRow>('SELECT * FROM erasures WHERE workspace_id = ? AND id = ?')

  const erase = db.transaction((input: EraseEventsInput) => {
    const ws = input.erasure.workspaceId
    const now = input.now.getTime()
    for (const event of input.events) {
      updateBody.run({ ws, id: event.id, body: event.body })
      clearExcerpts.run({ ws, id: event.id })
      for (const ended of failOpen.all({ ws, id: event.id, now, error: ERASED_ERROR })) {
        if (ended.order_key !== null) releaseLane(ended.webhook_id, ended.order_key, now)
      }
    }
    const e = input.erasure
    insert.run({ id: e.id, workspaceId: ws, contactId: e.contactId, jobId: e.jobId, eventsMatched: e.eventsMatched, createdAt: e.createdAt.getTime() })
  })

  return {
    findEventsToErase (workspaceId: string, match: { contactId: string | null, jobId: string | null }): StoredEvent[] {
      return select.all({ ws: workspaceId, contact: match.contactId, job: match.jobId }).map(toEvent)
    },
    eraseEvents (input: EraseEventsInput): void {
      erase.immediate(input)
    },
    getErasure (workspaceId: string, id: string): Erasure | null {
      const row = selectErasure.get(workspaceId, id)
      return row === undefined ? null : toErasure(row)
    },
  }
}
