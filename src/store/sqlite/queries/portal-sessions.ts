import type { Database } from 'better-sqlite3'
import type { PortalSession } from '../../store.js'
import { portalSessionValues, toPortalSession } from '../../portal-session-row.js'
import type { PortalSessionRow } from '../../portal-session-row.js'

/** Portal sessions (Store's PortalSession), SQL only; src/api/portal.ts holds the rules. */
export function preparePortalSessions (db: Database) {
  const insert = db.prepare(`INSERT INTO portal_sessions (id, workspace_id, hash, persona_id, created_at, expires_at, read_only)
    VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const byHash = db.prepare<[string], PortalSessionRow>('SELECT * FROM portal_sessions WHERE hash = ?')
  const revoke = db.prepare('UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE workspace_id = ? AND id = ?')
  return {
    createPortalSession (session: PortalSession): void {
      insert.run(...portalSessionValues(session), session.readOnly ? 1 : 0)
    },
    findPortalSessionByHash (hash: string): PortalSession | null {
      const row = byHash.get(hash)
      return row === undefined ? null : toPortalSession(row)
    },
    revokePortalSession (workspaceId: string, id: string, at: Date): boolean {
      return revoke.run(at.getTime(), workspaceId, id).changes > 0
    },
  }
}
