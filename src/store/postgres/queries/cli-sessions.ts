/** `listen` sessions (Store's CliSession), SQL only; src/delivery/cli-hub.ts holds the rules. */
import type pg from 'pg'
import type { CliSession } from '../../store.js'
import { toCliSession } from '../../cli-session-row.js'
import type { CliSessionRow } from '../../cli-session-row.js'

export async function insertCliSession (db: pg.Pool, session: CliSession): Promise<void> {
  await db.query(
    `INSERT INTO cli_sessions (id, workspace_id, webhook_id, hub_id, created_at, heartbeat_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [session.id, session.workspaceId, session.webhookId, session.hubId, session.createdAt.getTime(), session.heartbeatAt.getTime()])
}

export async function getCliSession (db: pg.Pool, workspaceId: string, id: string): Promise<CliSession | null> {
  const result = await db.query<CliSessionRow>('SELECT * FROM cli_sessions WHERE id = $1 AND workspace_id = $2', [id, workspaceId])
  const row = result.rows[0]
  return row === undefined ? null : toCliSession(row)
}

export async function deleteCliSession (db: pg.Pool, id: string): Promise<void> {
  await db.query('DELETE FROM cli_sessions WHERE id = $1', [id])
}

export async function heartbeatCliSessions (db: pg.Pool, hubId: string, now: Date): Promise<void> {
  await db.query('UPDATE cli_sessions SET heartbeat_at = $1 WHERE hub_id = $2', [now.getTime(), hubId])
}

export async function listStaleCliSessions (db: pg.Pool, before: Date): Promise<CliSession[]> {
  const result = await db.query<CliSessionRow>('SELECT * FROM cli_sessions WHERE heartbeat_at < $1 ORDER BY heartbeat_at', [before.getTime()])
  return result.rows.map(toCliSession)
}
