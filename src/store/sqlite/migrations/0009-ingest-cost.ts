import type { Migration } from '../migrations.js'
import { CONTACT_ID_SQL, JOB_ID_SQL } from './0008-search-stats-portal.js'

/**
 * 0009: the ids delivery search finds an event by become columns of `events`, filled when the
 * event is written (events/event-keys.ts), instead of expression indexes that parsed every
 * envelope written (a third of the cost of accepting an event, docs/performance.md). Existing
 * events are filled from their bodies once, here. Same number as the PostgreSQL migration 0009 (which also
 * leaves room on `deliveries` pages for PostgreSQL's in-place updates; SQLite has no such thing).
 */
export const migration0009: Migration = {
  version: 9,
  name: 'ingest-cost',
  sql: `
ALTER TABLE events ADD COLUMN job_id TEXT;
ALTER TABLE events ADD COLUMN contact_id TEXT;
UPDATE events SET job_id = ${JOB_ID_SQL}, contact_id = ${CONTACT_ID_SQL};
DROP INDEX events_by_job;
DROP INDEX events_by_contact;
CREATE INDEX events_by_job ON events (workspace_id, job_id) WHERE job_id IS NOT NULL;
CREATE INDEX events_by_contact ON events (workspace_id, contact_id) WHERE contact_id IS NOT NULL;
`,
}
