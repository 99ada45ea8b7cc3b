/**
 * A `portal_sessions` row as both drivers read it (times as Unix ms numbers; read_only as 0/1 on
 * SQLite, boolean on PostgreSQL) and its mapping to the Store's PortalSession.
 */
import type { PortalSession } from './store.js'

export interface PortalSessionRow {
  id: string
  workspace_id: string
  hash: string
  persona_id: string | null
  read_only: number | boolean
  created_at: number
  expires_at: number
  revoked_at: number | null
}

export function toPortalSession (row: PortalSessionRow): PortalSession {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    hash: row.hash,
    personaId: row.persona_id,
    readOnly: row.read_only === true || row.read_only === 1,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  }
}

/** The row's values in column order: id, workspace_id, hash, persona_id, created_at, expires_at. */
export function portalSessionValues (session: PortalSession): [string, string, string, string | null, number, number] {
  return [session.id, session.workspaceId, session.hash, session.personaId, session.createdAt.getTime(), session.expiresAt.getTime()]
}
