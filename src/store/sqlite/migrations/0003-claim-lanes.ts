import type { Migration } from '../migrations.js'

/**
 * 0003: one "lane" per webhook in the queue. Pending rows by (webhook_id, next_attempt_at, id) let
 * a claim that leaves out saturated webhooks step from webhook to webhook (a loose index scan) and
 * read only the due rows of the webhooks it may take, instead of walking deliveries_due past every
 * due row of the webhooks it leaves out (a dead endpoint's backlog can be millions).
 * Same number and meaning as the PostgreSQL migration 0003.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'claim-lanes',
  sql: `
CREATE INDEX deliveries_lane ON deliveries (webhook_id, next_attempt_at, id) WHERE status = 'pending';
`,
}
