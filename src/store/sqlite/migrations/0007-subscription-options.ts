import type { Migration } from '../migrations.js'

/**
 * 0007: subscription options (docs/delivery.md, "Per-call ordering" and "Rate limits"; docs/api.md,
 * "Filters" and "Custom headers"). Same number and meaning as the PostgreSQL migration 0007.
 *
 * - webhooks: `ordering`, `payload_filter` (JSON), `custom_headers` (JSON), `rate_limit_per_s`.
 * - deliveries: `order_key` (the call of an ordered delivery) and `order_seq` (its place in that
 *   call's queue). A delivery waiting for an earlier one of its call is pending with
 *   next_attempt_at NULL, so no claim ever sees it; `deliveries_order` finds a call's pending
 *   deliveries when an event is recorded and when one of them settles.
 * - rate_slots: per rate-limited webhook, the next free start time (ms, fractional), shared by
 *   every process using the database.
 */
export const migration0007: Migration = {
  version: 7,
  name: 'subscription-options',
  sql: `
ALTER TABLE webhooks ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'per_call'));
ALTER TABLE webhooks ADD COLUMN payload_filter TEXT;
ALTER TABLE webhooks ADD COLUMN custom_headers TEXT;
ALTER TABLE webhooks ADD COLUMN rate_limit_per_s INTEGER;
ALTER TABLE deliveries ADD COLUMN order_key TEXT;
ALTER TABLE deliveries ADD COLUMN order_seq INTEGER;
CREATE INDEX deliveries_order ON deliveries (webhook_id, order_key, order_seq)
  WHERE status = 'pending' AND order_key IS NOT NULL;
CREATE TABLE rate_slots (
  webhook_id    TEXT PRIMARY KEY,
  next_slot_at  REAL NOT NULL
) WITHOUT ROWID;
`,
}
