import type { Database } from 'better-sqlite3'
import { withRelaxedSync } from '../relaxed-sync.js'

/**
 * Store.reserveSendSlots: one row per rate-limited webhook holds the next free start time; a
 * reservation moves it on by `count × intervalMs` in one statement, so processes sharing the file
 * never get the same slot (docs/delivery.md, "Rate limits").
 */
export function prepareRateSlots (db: Database) {
  const reserve = db.prepare<{ webhook: string, now: number, span: number }, { next_slot_at: number }>(`
    INSERT INTO rate_slots (webhook_id, next_slot_at) VALUES (@webhook, @now + @span)
    ON CONFLICT (webhook_id) DO UPDATE SET next_slot_at = MAX(next_slot_at, @now) + @span
    RETURNING next_slot_at`)
  return (webhookId: string, count: number, intervalMs: number, now: Date): Date => {
    const span = Math.max(1, Math.floor(count)) * intervalMs
    const row = withRelaxedSync(db, () => reserve.get({ webhook: webhookId, now: now.getTime(), span }))
    return new Date((row?.next_slot_at ?? now.getTime() + span) - span)
  }
}
