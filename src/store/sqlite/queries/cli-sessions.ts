import type { Database } from 'better-sqlite3'
import type { CliSession } from '../../store.js'
import { fromMs, toMs } from '../rows.js'

interface CliSessionRow {
  id: string
  workspace_id: string
  webhook_id: string
  hub_id: string
  created_at: number
  heartbeat_at: number
}

function toCliSession (row: CliSessionRow): CliSession {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    webhookId: row.webhook_id,
    hubId: row.hub_id,
    createdAt: fromMs(row.created_at),
    heartbeatAt: fromMs(row.heartbeat_at),
  }
}

/** `listen` sessions (Store's CliSession), SQL only; src/cli-sessions holds the rules. */
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
