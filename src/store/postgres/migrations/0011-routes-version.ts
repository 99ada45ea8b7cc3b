import { ROUTES_VOLATILE_COLUMNS } from '../../routes-version.js'

// The row as routing sees it: every column but the volatile ones (routes-version.ts), present and future.
const WITHOUT_VOLATILE = (row: 'OLD' | 'NEW'): string => `(to_jsonb(${row}) - ARRAY[${ROUTES_VOLATILE_COLUMNS.map((c) => `'${c}'`).join(', ')}]::text[])`

/**
 * 0011: a version per workspace of what routing reads (Store.routesVersion; docs/storage.md,
 * "Routing cache"), so that a process can keep the routing candidates of an event type in memory
 * and check them with one key lookup per event instead of reading the webhooks again. Same number
 * and meaning as the SQLite migration 0011.
 *
 * The triggers are deferred to the commit: a transaction that changes several webhooks locks the
 * version row last, after every webhook row it writes, so two such transactions cannot wait on
 * each other through it. The version and the change become visible together, at the commit.
 */
export const migration0011 = {
  version: 11,
  name: 'routes-version',
  sql: `
CREATE TABLE routes_versions (
  workspace_id text PRIMARY KEY,
  version bigint NOT NULL
);

CREATE FUNCTION routes_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO routes_versions (workspace_id, version)
  VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.workspace_id ELSE NEW.workspace_id END, 1)
  ON CONFLICT (workspace_id) DO UPDATE SET version = routes_versions.version + 1;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER routes_version_on_write AFTER INSERT OR DELETE ON webhooks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION routes_version_bump();

CREATE CONSTRAINT TRIGGER routes_version_on_update AFTER UPDATE ON webhooks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (${WITHOUT_VOLATILE('OLD')} IS DISTINCT FROM ${WITHOUT_VOLATILE('NEW')})
EXECUTE FUNCTION routes_version_bump();
`,
} as const
