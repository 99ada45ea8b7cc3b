/**
 * Loads the SQLite driver lazily, so a PostgreSQL deployment never loads better-sqlite3.
 *
 * TODO(coordinator, after the `sqlite` branch is merged): replace the untyped import below with
 *   `const { createSqliteStore } = await import('./sqlite/index.js')`
 * and check the factory's name and options (assumed here: `createSqliteStore({ path })`). The
 * specifier is held in a variable only so this branch type-checks before src/store/sqlite/ exists.
 */
import { ConfigError } from '../errors.js'
import type { Store } from './store.js'

type SqliteFactory = (options: { path: string }) => Promise<Store> | Store

export async function openSqliteStore (path: string): Promise<Store> {
  const specifier = './sqlite/index.js'
  const driver = await import(specifier) as { createSqliteStore?: SqliteFactory }
  if (typeof driver.createSqliteStore !== 'function') {
    throw new ConfigError('the SQLite store driver is not available in this build')
  }
  return await driver.createSqliteStore({ path })
}
