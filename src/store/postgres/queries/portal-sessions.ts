/** Portal sessions (Store's PortalSession), SQL only; src/api/portal.ts holds the rules. */
import type pg from 'pg'
import type { PortalSession } from '../../store.js'
import { portalSessionValues, toPortalSession } from '../../portal-session-row.js'
import type { PortalSessionRow } from '../../portal-session-row.js'

export async function createPortalSession (db: pg.Pool, session: PortalSession): Promise<void> {
  await db.query(
    `INSERT INTO portal_sessions (id, workspace_id, hash, persona_id, created_at, expires_at, read_only)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [...portalSessionValues(session), session.readOnly])
}

export async function findPortalSessionByHash (db: pg.Pool, hash: string): Promise<PortalSession | null> {
  const result = await db.query<PortalSessionRow>('SELECT * FROM portal_sessions WHERE hash = $1', [hash])
  const row = result.rows[0]
  return row === undefined ? null : toPortalSession(row)
}

export async function revokePortalSession (db: pg.Pool, workspaceId: string, id: string, at: Date): Promise<boolean> {
  const result = await db.query('UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, $1) WHERE workspace_id = $2 AND id = $3',
    [at.getTime(), workspaceId, id])
  return (result.rowCount ?? 0) > 0
}
