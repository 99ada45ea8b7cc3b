import type pg from 'pg'
import { MIGRATIONS } from './migrations/index.js'

// First key of pg_advisory_lock(int, int): "kejue-webhooks migrations"; the second is the schema.
const MIGRATION_LOCK_KEY = 0x6b6a7765

/**
 * Applies the migrations not yet recorded in schema_migrations, each in its own transaction, while
 * holding an advisory lock: processes that start at once wait for each other instead of racing,
 * and the later ones find everything applied. Returns the versions this call applied.
 */
export async function migrate (pool: pg.Pool, schema: string | null): Promise<number[]> {
  const client = await pool.connect()
  const applied: number[] = []
  // A connection lost while checked out emits 'error'; the failing query already reports it.
  const ignore = (): void => {}
  client.on('error', ignore)
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_KEY, schema ?? ''])
    try {
      if (schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at bigint NOT NULL
      )`)
      const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
      const have = new Set(done.rows.map((row) => row.version))
      for (const migration of MIGRATIONS) {
        if (have.has(migration.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(migration.sql)
          await client.query(
            'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
            [migration.version, migration.name, Date.now()],
          )
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK')
          throw err
        }
        applied.push(migration.version)
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_KEY, schema ?? ''])
    }
  } finally {
    client.release()
    client.removeListener('error', ignore)
  }
  return applied
}
