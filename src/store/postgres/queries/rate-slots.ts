/**
 * Store.reserveSendSlots: one row per rate-limited webhook holds the next free start time (ms,
 * fractional); a reservation moves it on by `count × intervalMs` in one statement, so workers in
 * different processes never get the same slot (docs/delivery.md, "Rate limits").
 */
import type pg from 'pg'

export async function reserveSendSlots (db: pg.Pool, webhookId: string, count: number, intervalMs: number, now: Date): Promise<Date> {
  const span = Math.max(1, Math.floor(count)) * intervalMs
  const result = await db.query<{ next_slot_at: number }>({
    name: 'kejue-reserve-send-slots',
    text: `INSERT INTO rate_slots (webhook_id, next_slot_at)
      SELECT $1::text, $2::float8 + $3::float8 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $1::text)
      ON CONFLICT (webhook_id) DO UPDATE SET next_slot_at = greatest(rate_slots.next_slot_at, $2::float8) + $3::float8
      RETURNING next_slot_at`,
    values: [webhookId, now.getTime(), span],
  })
  const next = result.rows[0]?.next_slot_at ?? now.getTime() + span
  return new Date(Number(next) - span)
}
