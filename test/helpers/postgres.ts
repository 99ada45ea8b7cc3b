/**
 * Real PostgreSQL for tests: each caller gets its own schema (random name), dropped in cleanup,
 * so test files running side by side never see each other's rows.
 * KEJUE_TEST_DATABASE_URL overrides the default local server.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { MIGRATIONS } from '../../src/store/postgres/migrations/index.js'
import type { Store } from '../../src/store/store.js'

export const TEST_DATABASE_URL = process.env.KEJUE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export function randomSchemaName (): string {
  return `t_${randomBytes(6).toString('hex')}`
}

/** Runs `sql` on its own connection: to the shared test database, or to `url` (a test's own database). */
export async function adminQuery<R extends pg.QueryResultRow> (sql: string, values: unknown[] = [], url: string = TEST_DATABASE_URL): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(sql, values)).rows
  } finally {
    await client.end()
  }
}

/**
 * A database of the caller's own (`<prefix>_<random>`), for tests that run `serve` on it or
 * terminate its backends: nobody else's connections are touched. `drop` forces it away.
 */
export async function createTestDatabase (prefix: string): Promise<{ name: string, url: string, drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`
  await adminQuery(`CREATE DATABASE ${name}`)
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    drop: async () => { await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) },
  }
}

export async function dropSchema (schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await client.end()
  }
}

/** A store in a fresh schema; `cleanup` closes it and drops the schema. */
export async function makePostgresStore (options: { poolSize?: number, commitGatherMs?: number } = {}): Promise<{ store: Store, schema: string, cleanup: () => Promise<void> }> {
  const schema = randomSchemaName()
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, ...options })
  return {
    store,
    schema,
    async cleanup () {
      await store.close()
      await dropSchema(schema)
    },
  }
}

/**
 * A fresh schema migrated up to `version` only, as a release of that version left it, and a
 * client whose search_path is that schema (for a migration test to write rows as they were then).
 * The caller ends the client and drops the schema.
 */
export async function schemaAtVersion (version: number): Promise<{ schema: string, client: pg.Client }> {
  const schema = randomSchemaName()
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA ${schema}`)
    await client.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)')
    for (const migration of MIGRATIONS.filter((m) => m.version <= version)) {
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [migration.version, migration.name])
    }
  } catch (err) {
    await client.end()
    throw err
  }
  return { schema, client }
}
