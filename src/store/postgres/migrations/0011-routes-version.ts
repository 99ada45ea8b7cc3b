import { ROUTES_VOLATILE_COLUMNS } from '../../routes-version.js'

// The row as routing sees it: every column but the volatile ones (routes-version.ts), present and future.
const WITHOUT_VOLATILE = (row: 'OLD' | 'NEW'): string => `(to_jsonb(${row}) - ARRAY[${ROUTES_VOLATILE_COLUMNS.map((c) => `'${c}'`).join(', ')}]::text[])`

/**
 * 0011: the version of what routing reads (read with Store.routingState; docs/storage.md, "Routing
 * cache"), so that a process can keep the routing candidates of an event type in memory and
 * check them with one key lookup per event instead of reading the webhooks again. Same number
 * and meaning as the SQLite migration 0011, with two differences that PostgreSQL needs:
 *
 * - **One version for every workspace** (the row with workspace_id ''): a change anywhere moves
 *   it. The triggers are deferred to the commit, so a transaction locks the version row after
 *   every webhook row it writes; with one row per workspace, two settlements changing the health
 *   of webhooks in two workspaces in opposite orders would each hold one version row and wait for
 *   the other (a deadlock). With one row nobody holding it waits for anything else. Subscriptions
 *   change rarely (health changes are breaker transitions, not counters), so the cost is a few
 *   more cache misses.
 * - **A new random value, never the old one plus one**: settlements commit without waiting for
 *   the WAL flush (synchronous_commit=off), so a database crash can lose a change after processes
 *   have cached answers under its version; counting again from the older value would reuse that
 *   version for a different state. A random 53-bit value does not come back.
 *
 * Inline webhooks (`job_id` set) leave it: routing never reads them from the cache, and a
 * workspace creating calls with inline webhooks would otherwise invalidate it per call. The
 * function names no schema: it runs with the connection's search_path, like 0002's.
 */
export const migration0011 = {
  version: 11,
  name: 'routes-version',
  sql: `
CREATE TABLE routes_versions (
  workspace_id text PRIMARY KEY,
  version bigint NOT NULL
);
INSERT INTO routes_versions (workspace_id, version) VALUES ('', 0);

CREATE FUNCTION routes_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE routes_versions SET version = 1 + floor(random() * 9007199254740990)::bigint WHERE workspace_id = '';
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER routes_version_on_insert AFTER INSERT ON webhooks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.job_id IS NULL)
EXECUTE FUNCTION routes_version_bump();

CREATE CONSTRAINT TRIGGER routes_version_on_delete AFTER DELETE ON webhooks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.job_id IS NULL)
EXECUTE FUNCTION routes_version_bump();

CREATE CONSTRAINT TRIGGER routes_version_on_update AFTER UPDATE ON webhooks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN ((OLD.job_id IS NULL OR NEW.job_id IS NULL) AND ${WITHOUT_VOLATILE('OLD')} IS DISTINCT FROM ${WITHOUT_VOLATILE('NEW')})
EXECUTE FUNCTION routes_version_bump();
`,
} as const
