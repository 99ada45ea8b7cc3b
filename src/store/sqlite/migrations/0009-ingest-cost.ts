import type { Migration } from '../migrations.js'

/**
 * 0009: the ids delivery search finds an event by become columns of `events`, filled when the
 * event is written (events/event-keys.ts: string ids without U+0000 only), instead of expression
 * indexes that parsed every envelope written (docs/performance.md, "Fourth round"). Existing
 * events are filled from their bodies once, here, by the same rule. Same number as the PostgreSQL
 * migration 0009, which also leaves room on `deliveries` pages for PostgreSQL's in-place updates
 * and fills the columns of events written by an older release during a rolling upgrade (one
 * SQLite file is served by processes of one release, restarted together).
 */
const STRING_AT = (flat: string, nested: string): string =>
  `CASE WHEN json_type(body, '$.data.${flat}') = 'text' AND instr(json_extract(body, '$.data.${flat}'), char(0)) = 0
          THEN json_extract(body, '$.data.${flat}')
        WHEN json_type(body, '$.data.${nested}.id') = 'text' AND instr(json_extract(body, '$.data.${nested}.id'), char(0)) = 0
          THEN json_extract(body, '$.data.${nested}.id') END`

export const migration0009: Migration = {
  version: 9,
  name: 'ingest-cost',
  sql: `
ALTER TABLE events ADD COLUMN job_id TEXT;
ALTER TABLE events ADD COLUMN contact_id TEXT;
UPDATE events SET job_id = ${STRING_AT('job_id', 'call')}, contact_id = ${STRING_AT('contact_id', 'contact')};
DROP INDEX events_by_job;
DROP INDEX events_by_contact;
CREATE INDEX events_by_job ON events (workspace_id, job_id) WHERE job_id IS NOT NULL;
CREATE INDEX events_by_contact ON events (workspace_id, contact_id) WHERE contact_id IS NOT NULL;
`,
}
