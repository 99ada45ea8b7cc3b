import type { Migration } from '../migrations.js'

/**
 * 0002: an index for routing, so that accepting an event reads only the webhooks it may go to
 * instead of every webhook of the workspace (docs/storage.md, "Routing index").
 *
 * `webhook_routes` has one row per entry of a subscription's `events` (the wildcard "*" too), with
 * `persona_key` '' for global scope and the persona id for persona scope. Deleted webhooks and
 * inline webhooks have no rows; disabled ones keep theirs (whether a disabled webhook gets anything
 * is the routing rule's call, in src/delivery/routing.ts). Triggers keep the rows in step with
 * `webhooks` inside the writing statement itself, so no write path and no process can forget them.
 * The table is a superset index, not the rule: a persona-scoped row without a persona gets key ''
 * and is filtered out by the rule.
 */
const ROUTES_OF_NEW = `
  INSERT OR IGNORE INTO webhook_routes (workspace_id, event_type, persona_key, webhook_id)
  SELECT NEW.workspace_id, e.value,
         CASE WHEN NEW.scope_type = 'persona' THEN coalesce(NEW.persona_id, '') ELSE '' END, NEW.id
  FROM json_each(NEW.events) AS e
  WHERE e.type = 'text' AND NEW.job_id IS NULL AND NEW.deleted_at IS NULL;`

export const migration0002: Migration = {
  version: 2,
  name: 'webhook-routes',
  sql: `
CREATE TABLE webhook_routes (
  workspace_id  TEXT NOT NULL,
  event_type    TEXT NOT NULL,  -- an entry of the webhook's events: a type or "*"
  persona_key   TEXT NOT NULL,  -- '' for global scope, else the persona id
  webhook_id    TEXT NOT NULL,
  PRIMARY KEY (workspace_id, event_type, persona_key, webhook_id)
) WITHOUT ROWID;
CREATE INDEX webhook_routes_by_webhook ON webhook_routes (webhook_id);

CREATE TRIGGER webhook_routes_on_insert AFTER INSERT ON webhooks
BEGIN${ROUTES_OF_NEW}
END;

CREATE TRIGGER webhook_routes_on_update
AFTER UPDATE OF workspace_id, events, scope_type, persona_id, job_id, deleted_at ON webhooks
BEGIN
  DELETE FROM webhook_routes WHERE webhook_id = OLD.id;${ROUTES_OF_NEW}
END;

CREATE TRIGGER webhook_routes_on_delete AFTER DELETE ON webhooks
BEGIN
  DELETE FROM webhook_routes WHERE webhook_id = OLD.id;
END;

INSERT OR IGNORE INTO webhook_routes (workspace_id, event_type, persona_key, webhook_id)
SELECT w.workspace_id, e.value,
       CASE WHEN w.scope_type = 'persona' THEN coalesce(w.persona_id, '') ELSE '' END, w.id
FROM webhooks AS w, json_each(w.events) AS e
WHERE e.type = 'text' AND w.job_id IS NULL AND w.deleted_at IS NULL;
`,
}
