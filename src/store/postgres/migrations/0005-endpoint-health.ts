/**
 * 0005: endpoint health (docs/delivery.md, "The life of an endpoint"). The webhook row keeps its
 * health (breaker, failures in a row, auto-disable counters), why and when it was disabled, and
 * an optional retry schedule. Deliveries may be `parked`, `held` by an open breaker, or sent
 * whatever the breaker (`skip_breaker`). Same number and meaning as the SQLite migration 0005.
 */
export const migration0005 = {
  version: 5,
  name: 'endpoint-health',
  sql: `
ALTER TABLE webhooks
  ADD COLUMN disabled_reason text CHECK (disabled_reason IN ('manual', 'gone', 'failing')),
  ADD COLUMN disabled_at bigint,
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN breaker text NOT NULL DEFAULT 'closed' CHECK (breaker IN ('closed', 'open', 'half_open')),
  ADD COLUMN breaker_probe_at bigint,
  ADD COLUMN breaker_cooldown_ms bigint NOT NULL DEFAULT 0,
  ADD COLUMN last_success_at bigint,
  ADD COLUMN failed_deliveries_in_row integer NOT NULL DEFAULT 0,
  ADD COLUMN failing_since bigint,
  ADD COLUMN retry_schedule_ms jsonb;
UPDATE webhooks SET disabled_reason = 'manual', disabled_at = updated_at WHERE NOT enabled;

ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'parked'));
ALTER TABLE deliveries ADD COLUMN held boolean NOT NULL DEFAULT false;
ALTER TABLE deliveries ADD COLUMN skip_breaker boolean NOT NULL DEFAULT false;
-- A webhook's parked (enable, counts) and failed (recover) deliveries are found by the index
-- deliveries_webhook_status (webhook_id, status, id) of migration 0008.
`,
} as const
