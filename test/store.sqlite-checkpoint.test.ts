/**
 * WAL checkpoints (src/store/sqlite/checkpointer.ts): a worker thread copies the WAL into the
 * database file while the store is open, and the WAL stays near its bound under a stream of
 * commits that never pauses (the store's connection checkpoints what is left when the WAL reaches
 * the bound, and the next write starts it over).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { startCheckpointer } from '../src/store/sqlite/checkpointer.js'
import { DEFAULTS } from '../src/config/defaults.js'
import { eventFor, seed } from './contract/store-fixtures.js'
import { waitFor } from './helpers/wait-for.js'

test('sqlite: a worker thread checkpoints the WAL into the database file before it reaches its bound', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-checkpoint-'))
  try {
    const path = join(dir, 'webhooks.db')
    const store = await createSqliteStore({ path })
    try {
      const { ws, webhooks: [hook] } = await seed(store, 1)
      assert.ok(hook)
      const before = statSync(path).size
      // ~3,000 WAL pages, below the bound at which the store's own connection would checkpoint.
      assert.ok(DEFAULTS.store.sqliteCheckpoint.walLimitPages > 3_000)
      const ids: string[] = []
      for (let turn = 0; turn < 30; turn++) {
        const batch = Array.from({ length: 50 }, () => eventFor([hook]))
        ids.push(...batch.map((input) => input.event.id))
        await Promise.all(batch.map(async (input) => await store.recordEvent({ ...input, event: { ...input.event, body: input.event.body + ' '.repeat(2_000) } })))
      }
      // The rows are in the database file itself, not only in the WAL: the worker checkpointed.
      await waitFor('the WAL to be checkpointed into the database file', () => statSync(path).size > before + 3_000_000)
      for (const id of [ids[0], ids.at(-1)]) assert.notEqual(await store.getEvent(ws.id, id ?? ''), null)
    } finally {
      await store.close()
    }
    // Closed cleanly: the worker is gone and the last connection folded the WAL in.
    const reopened = new Database(path)
    try {
      assert.equal(reopened.pragma('integrity_check', { simple: true }), 'ok')
      assert.equal((reopened.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 1_500)
    } finally {
      reopened.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** A WAL database with one table `t (v TEXT)`, removed after `fn`; the WAL file's path. */
async function withPlainWalDb (fn: (db: Database.Database, path: string) => Promise<void>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-checkpoint-'))
  const path = join(dir, 'plain.db')
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.exec('CREATE TABLE t (v TEXT)')
    await fn(db, path)
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return `${path}-wal`
}

test('sqlite: under commits that never pause, the WAL stays near its bound instead of growing with every commit', { timeout: 120_000 }, async () => {
  const wal = await withPlainWalDb(async (db, path) => {
    const limitPages = 500
    const checkpointer = startCheckpointer(db, { busyIntervalMs: 5, idleIntervalMs: 50, walLimitPages: limitPages, busyTimeoutMs: 1_000 })
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), limitPages)
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    const before = statSync(path).size
    // 12,000 commits of a 3 KB row, back to back: ~36 MB through the WAL (72 times the bound),
    // with never a moment between commits for the worker to have copied everything.
    const walSizes: number[] = []
    for (let i = 0; i < 12_000; i++) {
      insert.run('x'.repeat(3_000))
      if (i % 250 === 249) walSizes.push(statSync(`${path}-wal`).size)
    }
    walSizes.sort((a, b) => a - b)
    const median = walSizes[Math.floor(walSizes.length / 2)] ?? Infinity
    const bound = limitPages * 4_096
    // Near the bound; without it the WAL held every commit (median ~18 MB, 36 times the bound).
    assert.ok(median <= 4 * bound, `median WAL size ${median} bytes, bound ${bound}`)
    // The pages reached the database file meanwhile, and nothing was lost.
    await waitFor('the database file to hold the rows', () => statSync(path).size > before + 30_000_000)
    await checkpointer.close()
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 12_000)
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  })
  assert.equal(existsSync(wal), false)
})

test('sqlite: the worker copies the WAL into the database file by itself, with the connection\'s own bound far away', { timeout: 120_000 }, async () => {
  await withPlainWalDb(async (db, path) => {
    const checkpointer = startCheckpointer(db, { busyIntervalMs: 5, idleIntervalMs: 20, walLimitPages: 1_000_000, busyTimeoutMs: 1_000 })
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    const before = statSync(path).size
    // ~1,500 pages, one commit each, far below the connection's bound: only the worker moves them.
    for (let i = 0; i < 1_500; i++) insert.run('x'.repeat(4_000))
    await waitFor('the worker to checkpoint the WAL', () => statSync(path).size > before + 5_000_000)
    // Still the worker's doing: had it died, the connection would be back at SQLite's default.
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1_000_000)
    await checkpointer.close()
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1_500)
  })
})
