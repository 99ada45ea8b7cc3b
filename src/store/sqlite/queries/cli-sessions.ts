import type { Database } from 'better-sqlite3'
import type { CliSession } from '../../store.js'
import { toMs } from '../rows.js'
import { toCliSession } from '../../cli-session-row.js'
import type { CliSessionRow } from '../../cli-session-row.js'

/** `listen` sessions (Store's CliSession), SQL only; src/delivery/cli-hub.ts holds the rules. */
export function prepareCliSessions (db: Database) {
  const insert = db.prepare(`INSERT INTO cli_sessions (id, workspace_id, webhook_id, hub_id, created_at, heartbeat_at)
    VALUES (@id, @workspace_id, @webhook_id, @hub_id, @created_at, @heartbeat_at)`)
  const select = db.prepare<[string, string], CliSessionRow>('SELECT * FROM cli_sessions WHERE id = ? AND workspace_id = ?')
  const remove = db.prepare('DELETE FROM cli_sessions WHERE id = ?')
  const heartbeat = db.prepare('UPDATE cli_sessions SET heartbeat_at = ? WHERE hub_id = ?')
  const stale = db.prepare<[number], CliSessionRow>('SELECT * FROM cli_sessions WHERE heartbeat_at < ? ORDER BY heartbeat_at')
  return {
    insertCliSession (session: CliSession): void {
      insert.run({
        id: session.id,
        workspace_id: session.workspaceId,
        webhook_id: session.webhookId,
        hub_id: session.hubId,
        created_at: toMs(session.createdAt),
        heartbeat_at: toMs(session.heartbeatAt),
      })
    },
    getCliSession (workspaceId: string, id: string): CliSession | null {
      const row = select.get(id, workspaceId)
      return row === undefined ? null : toCliSession(row)
    },
    deleteCliSession (id: string): void {
      remove.run(id)
    },
    heartbeatCliSessions (hubId: string, now: Date): void {
      heartbeat.run(toMs(now), hubId)
    },
    listStaleCliSessions (before: Date): CliSession[] {
      return stale.all(toMs(before)).map(toCliSession)
    },
  }
}
