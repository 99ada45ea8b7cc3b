import type { Database } from 'better-sqlite3'
import type { ApiKey, Workspace } from '../../store.js'
import { toApiKey, toMs, toWorkspace } from '../rows.js'
import type { ApiKeyRow, WorkspaceRow } from '../rows.js'
import { conflictOnDuplicate } from '../sqlite-errors.js'

/** Workspaces, API keys and settings: small tables, simple statements. */
export function prepareAccounts (db: Database) {
  const insertWorkspace = db.prepare('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)')
  const selectWorkspace = db.prepare<[string], WorkspaceRow>('SELECT id, name, created_at FROM workspaces WHERE id = ?')
  const selectWorkspaces = db.prepare<[], WorkspaceRow>('SELECT id, name, created_at FROM workspaces ORDER BY created_at, id')
  const insertKey = db.prepare('INSERT INTO api_keys (id, workspace_id, hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
  const selectKeyByHash = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL')
  // `IS ?` matches NULL too: listApiKeys(null) lists the admin keys.
  const selectKeys = db.prepare<[string | null], ApiKeyRow>('SELECT * FROM api_keys WHERE workspace_id IS ? ORDER BY created_at, id')
  const revokeKey = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
  const selectSetting = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
  const upsertSetting = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  const insertSetting = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
  const updateSetting = db.prepare('UPDATE settings SET value = ? WHERE key = ? AND value = ?')

  return {
    createWorkspace (workspace: Workspace): void {
      conflictOnDuplicate('workspace', () => insertWorkspace.run(workspace.id, workspace.name, toMs(workspace.createdAt)))
    },
    getWorkspace (id: string): Workspace | null {
      const row = selectWorkspace.get(id)
      return row === undefined ? null : toWorkspace(row)
    },
    listWorkspaces (): Workspace[] {
      return selectWorkspaces.all().map(toWorkspace)
    },
    createApiKey (key: ApiKey): void {
      conflictOnDuplicate('API key', () => insertKey.run(
        key.id, key.workspaceId, key.hash, key.prefix, toMs(key.createdAt),
        key.revokedAt === null ? null : toMs(key.revokedAt),
      ))
    },
    findApiKeyByHash (hash: string): ApiKey | null {
      const row = selectKeyByHash.get(hash)
      return row === undefined ? null : toApiKey(row)
    },
    listApiKeys (workspaceId: string | null): ApiKey[] {
      return selectKeys.all(workspaceId).map(toApiKey)
    },
    revokeApiKey (id: string, at: Date): boolean {
      return revokeKey.run(toMs(at), id).changes > 0
    },
    getSetting (key: string): string | null {
      return selectSetting.get(key)?.value ?? null
    },
    setSetting (key: string, value: string): void {
      upsertSetting.run(key, value)
    },
    replaceSetting (key: string, expected: string | null, value: string): boolean {
      const result = expected === null ? insertSetting.run(key, value) : updateSetting.run(value, key, expected)
      return result.changes > 0
    },
  }
}
