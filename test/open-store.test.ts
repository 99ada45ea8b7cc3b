import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pg from 'pg'
import { isPostgresUrl, migrateOnly, openStore } from '../src/store/open-store.js'
import { MIGRATIONS } from '../src/store/postgres/migrations/index.js'
import { TEST_DATABASE_URL, dropSchema, randomSchemaName } from './helpers/postgres.js'

test('postgres:// and postgresql:// URLs select PostgreSQL; anything else SQLite', () => {
  assert.equal(isPostgresUrl('postgres://u@h/db'), true)
  assert.equal(isPostgresUrl('postgresql://u@h/db'), true)
  assert.equal(isPostgresUrl(''), false)
  assert.equal(isPostgresUrl(undefined), false)
  assert.equal(isPostgresUrl('sqlite:./x.db'), false)
})

test('openStore opens a migrated PostgreSQL store; migrateOnly applies nothing twice', async () => {
  // The URL's options pick a throw-away schema, as a deployment could pick its own.
  const schema = randomSchemaName()
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const url = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`
  try {
    assert.deepEqual(await migrateOnly({ databaseUrl: url, dataDir: '/nonexistent' }), MIGRATIONS.map((m) => m.version))
    const store = await openStore({ databaseUrl: url, dataDir: '/nonexistent', encryptionKey: 'a'.repeat(64) })
    try {
      assert.equal(store.driver, 'postgres')
      assert.equal(await store.ping(), true)
    } finally {
      await store.close()
    }
    assert.deepEqual(await migrateOnly({ databaseUrl: url, dataDir: '/nonexistent' }), [])
  } finally {
    await dropSchema(schema)
  }
})

test('without a postgres URL, openStore opens SQLite at <dataDir>/webhooks.db', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kejue-open-store-'))
  try {
    assert.equal(await migrateOnly({ dataDir }), null)
    assert.ok(existsSync(join(dataDir, 'webhooks.db')))
    const store = await openStore({ databaseUrl: '', dataDir })
    try {
      assert.equal(store.driver, 'sqlite')
      assert.equal(await store.ping(), true)
    } finally {
      await store.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})
