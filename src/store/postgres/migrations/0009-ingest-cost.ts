/**
 * 0009: what accepting and delivering an event costs the database (docs/performance.md, "Fourth
 * round").
 *
 * - The ids delivery search finds an event by become columns of `events`, filled when the event
 *   is written (events/event-keys.ts: string ids only), instead of expression indexes that cast
 *   every envelope written to jsonb. Existing events are filled from their bodies once, here, by
 *   the same rule (a body holding \u0000, which jsonb cannot parse, stays unfound, as before).
 *   Same number and meaning as the SQLite migration 0009.
 * - A node of an older release still running during a rolling upgrade (docs/scaling.md) writes
 *   events without the columns: `events_fill_keys` fills them from the body for any event
 *   written with neither, so its events stay findable. New releases skip it for call events
 *   (they carry a job id); it costs one parse of an event that has neither id.
 * - `deliveries` keeps half of each page free (fillfactor 50), so that a claim — which changes
 *   only the lease columns, none of them indexed — is a HOT update that writes no index entry.
 *   With full pages every claim wrote a new entry into each of the table's dozen indexes (half
 *   the buffer traffic of a claim). Applies to pages written from now on.
 */
const STRING_AT = (b: string, flat: string, nested: string): string =>
  `CASE WHEN jsonb_typeof(${b} -> 'data' -> '${flat}') = 'string' THEN ${b} -> 'data' ->> '${flat}'
        WHEN jsonb_typeof(${b} -> 'data' -> '${nested}' -> 'id') = 'string' THEN ${b} -> 'data' -> '${nested}' ->> 'id' END`

export const migration0009 = {
  version: 9,
  name: 'ingest-cost',
  sql: `
ALTER TABLE events ADD COLUMN job_id text;
ALTER TABLE events ADD COLUMN contact_id text;
UPDATE events e SET job_id = k.job_id, contact_id = k.contact_id
FROM (SELECT workspace_id, id, ${STRING_AT('b', 'job_id', 'call')} AS job_id, ${STRING_AT('b', 'contact_id', 'contact')} AS contact_id
      FROM (SELECT workspace_id, id, body::jsonb AS b FROM events WHERE strpos(body, '\\u0000') = 0) AS parsed) AS k
WHERE e.workspace_id = k.workspace_id AND e.id = k.id AND (k.job_id IS NOT NULL OR k.contact_id IS NOT NULL);
DROP INDEX events_job;
DROP INDEX events_contact;
CREATE INDEX events_job ON events (workspace_id, job_id) WHERE job_id IS NOT NULL;
CREATE INDEX events_contact ON events (workspace_id, contact_id) WHERE contact_id IS NOT NULL;

CREATE FUNCTION events_fill_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE b jsonb;
BEGIN
  IF strpos(NEW.body, '\\u0000') = 0 THEN
    b := NEW.body::jsonb;
    NEW.job_id := ${STRING_AT('b', 'job_id', 'call')};
    NEW.contact_id := ${STRING_AT('b', 'contact_id', 'contact')};
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER events_fill_keys BEFORE INSERT ON events
FOR EACH ROW WHEN (NEW.job_id IS NULL AND NEW.contact_id IS NULL) EXECUTE FUNCTION events_fill_keys();

ALTER TABLE deliveries SET (fillfactor = 50);
`,
}
