import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { openDatabase } from '../src/store/sqlite/open-database.js'
import { MIGRATIONS } from '../src/store/sqlite/migrations.js'
import { storeContract } from './contract/store.contract.js'
import { privacyContract } from './contract/store-privacy.contract.js'
import { at, claimOptions, eventFor, result, seed } from './contract/store-fixtures.js'

const root = mkdtempSync(join(tmpdir(), 'kejue-store-sqlite-'))
let counter = 0

function tempPath (): string {
  counter++
  return join(root, `store-${process.pid}-${counter}`, 'webhooks.db')
}

process.on('exit', () => rmSync(root, { recursive: true, force: true }))

const makeSqlite = async () => {
  const path = tempPath()
  const store = await createSqliteStore({ path })
  return {
    store,
    cleanup: async () => {
      await store.close()
      rmSync(join(path, '..'), { recursive: true, force: true })
    },
  }
}
storeContract('sqlite', makeSqlite)
privacyContract('sqlite', makeSqlite)

test('sqlite: opens the file in WAL mode and records the migrations it applied', async () => {
  const path = tempPath()
  const store = await createSqliteStore({ path })
  await store.close()
  const db = new Database(path, { readonly: true })
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    const versions = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()
    assert.deepEqual(versions, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })))
  } finally {
    db.close()
  }
})

test('sqlite: reopening keeps the data and applies no migration twice', async () => {
  const path = tempPath()
  const first = await createSqliteStore({ path })
  const { ws, webhooks } = await seed(first, 1)
  const input = eventFor(webhooks)
  await first.recordEvent(input)
  await first.close()
  await first.close() // closing twice is harmless

  const second = await createSqliteStore({ path })
  try {
    assert.deepEqual(await second.getEvent(ws.id, input.event.id), input.event)
    const [claimed] = await second.claimDue(claimOptions(at(0)))
    assert.equal(claimed?.deliveryId, input.deliveries[0]?.id)
    assert.ok(claimed)
    assert.deepEqual((await second.completeAttempts([result(claimed, { status: 'succeeded' })], at(1))).rejected, [])
  } finally {
    await second.close()
  }
  assert.equal(await second.ping(), false, 'a closed store does not answer')
})

test('sqlite: refuses a file migrated by a newer release', async () => {
  const path = tempPath()
  const store = await createSqliteStore({ path })
  await store.close()
  const db = new Database(path)
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(9_999, 'future', 0)
  db.close()
  await assert.rejects(createSqliteStore({ path }), (err: unknown) => (err as { code?: string }).code === 'CONFIG_INVALID')
})

test('sqlite: two stores on one file never claim the same delivery', async () => {
  const path = tempPath()
  const a = await createSqliteStore({ path })
  const b = await createSqliteStore({ path })
  try {
    const { webhooks } = await seed(a, 2)
    for (let i = 0; i < 50; i++) await a.recordEvent(eventFor(webhooks))
    const claimed: string[] = []
    for (let round = 0; round < 20; round++) {
      const [x, y] = await Promise.all([a.claimDue(claimOptions(at(0), { limit: 7 })), b.claimDue(claimOptions(at(0), { limit: 7 }))])
      claimed.push(...(x ?? []).map((c) => c.deliveryId), ...(y ?? []).map((c) => c.deliveryId))
    }
    assert.equal(claimed.length, 100)
    assert.equal(new Set(claimed).size, 100)
  } finally {
    await a.close()
    await b.close()
  }
})

test('sqlite: savepoint undo pages stay in memory (temp_store MEMORY), set after the migrations', () => {
  const path = tempPath()
  // A batch in which an event failed runs again with a savepoint per event, and statements
  // journal; with temporary files those undo pages cost ~38 pwrite calls per event
  // (docs/performance.md, "Sixth round").
  const db = openDatabase({ path, busyTimeoutMs: 1_000 })
  try {
    assert.equal(db.pragma('temp_store', { simple: true }), 2)
  } finally {
    db.close()
  }
})
