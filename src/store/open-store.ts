/**
 * Picks the store driver from the configuration (docs/configuration.md): a `postgres://` or
 * `postgresql://` database URL selects PostgreSQL; otherwise the embedded SQLite file
 * `<dataDir>/webhooks.db`. Either factory applies pending migrations before it returns.
 */
import { join } from 'node:path'
import { DEFAULTS } from '../config/defaults.js'
import type { Store } from './store.js'

export interface OpenStoreOptions {
  /** `KEJUE_DATABASE_URL`; unset or empty means SQLite. */
  databaseUrl?: string
  /** `KEJUE_DATA_DIR`, where the SQLite file lives. */
  dataDir: string
  /** PostgreSQL only: connections in the pool. @defaultValue 10 */
  poolSize?: number
}

export function isPostgresUrl (url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url)
}

export function sqlitePath (dataDir: string): string {
  return join(dataDir, DEFAULTS.store.sqliteFile)
}

// Each driver is imported only when chosen: a PostgreSQL deployment never loads better-sqlite3.
async function openSqliteStore (path: string): Promise<Store> {
  const { createSqliteStore } = await import('./sqlite/index.js')
  return await createSqliteStore({ path })
}

/** @example const store = await openStore({ databaseUrl: process.env.KEJUE_DATABASE_URL, dataDir: './data' }) */
export async function openStore (options: OpenStoreOptions): Promise<Store> {
  if (isPostgresUrl(options.databaseUrl)) {
    const { createPostgresStore } = await import('./postgres/index.js')
    return await createPostgresStore({
      connectionString: options.databaseUrl,
      ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    })
  }
  return await openSqliteStore(sqlitePath(options.dataDir))
}

/**
 * Applies pending migrations and exits (`kejue-webhooks migrate`). Returns the versions applied
 * now when the driver reports them (PostgreSQL), else null.
 */
export async function migrateOnly (options: OpenStoreOptions): Promise<number[] | null> {
  if (isPostgresUrl(options.databaseUrl)) {
    const { migratePostgres } = await import('./postgres/index.js')
    return await migratePostgres({ connectionString: options.databaseUrl })
  }
  // The SQLite factory migrates on open.
  const store = await openSqliteStore(sqlitePath(options.dataDir))
  await store.close()
  return null
}
