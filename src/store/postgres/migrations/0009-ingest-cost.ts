import { CONTACT_ID_SQL, JOB_ID_SQL } from './0008-search-stats-portal.js'

/**
 * 0009: what accepting and delivering an event costs the database (docs/performance.md).
 *
 * - The ids delivery search finds an event by become columns of `events`, filled when the event
 *   is written (events/event-keys.ts), instead of expression indexes that cast every envelope
 *   written to jsonb. Existing events are filled from their bodies once, here (a body holding
 *   \u0000 stays unfound, as before). Same number and meaning as the SQLite migration 0009.
 * - `deliveries` keeps half of each page free (fillfactor 50), so that a claim — which changes
 *   only the lease columns, none of them indexed — is a HOT update that writes no index entry.
 *   With full pages every claim wrote a new entry into each of the table's dozen indexes (half
 *   the buffer traffic of a claim). Applies to pages written from now on.
 */
export const migration0009 = {
  version: 9,
  name: 'ingest-cost',
  sql: `
ALTER TABLE events ADD COLUMN job_id text;
ALTER TABLE events ADD COLUMN contact_id text;
UPDATE events SET job_id = ${JOB_ID_SQL}, contact_id = ${CONTACT_ID_SQL};
DROP INDEX events_job;
DROP INDEX events_contact;
CREATE INDEX events_job ON events (workspace_id, job_id) WHERE job_id IS NOT NULL;
CREATE INDEX events_contact ON events (workspace_id, contact_id) WHERE contact_id IS NOT NULL;
ALTER TABLE deliveries SET (fillfactor = 50);
`,
}
