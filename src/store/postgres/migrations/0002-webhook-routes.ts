/**
 * 0002: an index for routing, so that accepting an event reads only the webhooks it may go to
 * instead of every webhook of the workspace (docs/storage.md, "Routing index"). Same number and
 * meaning as the SQLite migration 0002.
 *
 * `webhook_routes` has one row per entry of a subscription's `events` (the wildcard "*" too), with
 * `persona_key` '' for global scope and the persona id for persona scope. Inline webhooks have no
 * rows; disabled ones keep theirs (whether a disabled webhook gets anything is the routing rule's
 * call, in src/delivery/routing.ts); a deleted webhook's rows go with it (ON DELETE CASCADE). A
 * trigger keeps the rows in step with `webhooks` inside the writing statement itself, so no write
 * path and no process can forget them. The table is a superset index, not the rule: a
 * persona-scoped row without a persona gets key '' and is filtered out by the rule.
 *
 * The function names no schema: it runs with the connection's search_path, like every query.
 */
export const migration0002 = {
  version: 2,
  name: 'webhook-routes',
  sql: `
CREATE TABLE webhook_routes (
  workspace_id text NOT NULL,
  event_type text NOT NULL,
  persona_key text NOT NULL,
  webhook_id text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  PRIMARY KEY (workspace_id, event_type, persona_key, webhook_id)
);
CREATE INDEX webhook_routes_webhook ON webhook_routes (webhook_id);

CREATE FUNCTION webhook_routes_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM webhook_routes WHERE webhook_id = OLD.id;
  END IF;
  IF NEW.job_id IS NULL THEN
    INSERT INTO webhook_routes (workspace_id, event_type, persona_key, webhook_id)
    SELECT NEW.workspace_id, e.value,
           CASE WHEN NEW.scope_type = 'persona' THEN coalesce(NEW.persona_id, '') ELSE '' END, NEW.id
    FROM jsonb_array_elements_text(NEW.events) AS e(value)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER webhook_routes_sync
AFTER INSERT OR UPDATE OF workspace_id, events, scope_type, persona_id, job_id ON webhooks
FOR EACH ROW EXECUTE FUNCTION webhook_routes_sync();

INSERT INTO webhook_routes (workspace_id, event_type, persona_key, webhook_id)
SELECT w.workspace_id, e.value,
       CASE WHEN w.scope_type = 'persona' THEN coalesce(w.persona_id, '') ELSE '' END, w.id
FROM webhooks AS w, jsonb_array_elements_text(w.events) AS e(value)
WHERE w.job_id IS NULL
ON CONFLICT DO NOTHING;
`,
} as const
