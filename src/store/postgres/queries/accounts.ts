/** Workspaces, API keys and settings. */
import type pg from 'pg'
import { ServiceError } from '../../../errors.js'
import type { ApiKey, Workspace } from '../../store.js'
import type { ApiKeyRow, WorkspaceRow } from '../rows.js'
import { msOrNull, toApiKey, toWorkspace } from '../rows.js'
import { isUniqueViolation } from '../transaction.js'

function conflict (what: string, err: unknown): ServiceError {
  return new ServiceError('CONFLICT', `${what} already exists`, { cause: err })
}

export async function createWorkspace (db: pg.Pool, workspace: Workspace): Promise<void> {
  try {
    await db.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)',
      [workspace.id, workspace.name, workspace.createdAt.getTime()])
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('workspace', err)
    throw err
  }
}

export async function getWorkspace (db: pg.Pool, id: string): Promise<Workspace | null> {
  const result = await db.query<WorkspaceRow>('SELECT id, name, created_at FROM workspaces WHERE id = $1', [id])
  const row = result.rows[0]
  return row === undefined ? null : toWorkspace(row)
}

export async function listWorkspaces (db: pg.Pool): Promise<Workspace[]> {
  const result = await db.query<WorkspaceRow>('SELECT id, name, created_at FROM workspaces ORDER BY created_at, id')
  return result.rows.map(toWorkspace)
}

const KEY_COLUMNS = 'id, workspace_id, hash, prefix, created_at, revoked_at'

export async function createApiKey (db: pg.Pool, key: ApiKey): Promise<void> {
  try {
    await db.query(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [key.id, key.workspaceId, key.hash, key.prefix, key.createdAt.getTime(), msOrNull(key.revokedAt)])
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('api key', err)
    throw err
  }
}

export async function findApiKeyByHash (db: pg.Pool, hash: string): Promise<ApiKey | null> {
  const result = await db.query<ApiKeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, [hash])
  const row = result.rows[0]
  return row === undefined ? null : toApiKey(row)
}

/** `null` lists the admin keys (keys without a workspace). */
export async function listApiKeys (db: pg.Pool, workspaceId: string | null): Promise<ApiKey[]> {
  const result = await db.query<ApiKeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE workspace_id IS NOT DISTINCT FROM $1 ORDER BY created_at, id`,
    [workspaceId])
  return result.rows.map(toApiKey)
}

export async function revokeApiKey (db: pg.Pool, id: string, at: Date): Promise<boolean> {
  const result = await db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL',
    [id, at.getTime()])
  return (result.rowCount ?? 0) > 0
}

export async function getSetting (db: pg.Pool, key: string): Promise<string | null> {
  const result = await db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key])
  return result.rows[0]?.value ?? null
}

export async function setSetting (db: pg.Pool, key: string, value: string): Promise<void> {
  await db.query(
    'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
    [key, value])
}

export async function replaceSetting (db: pg.Pool, key: string, expected: string | null, value: string): Promise<boolean> {
  const result = expected === null
    ? await db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value])
    : await db.query('UPDATE settings SET value = $3 WHERE key = $1 AND value = $2', [key, expected, value])
  return (result.rowCount ?? 0) > 0
}
