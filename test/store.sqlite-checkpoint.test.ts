/**
 * WAL checkpoints run on a worker thread, never inside a commit on the main thread
 * (src/store/sqlite/checkpointer.ts): the store's connection has automatic checkpoints off, and
 * the WAL's frames still reach the database file while the store is open.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { startCheckpointer } from '../src/store/sqlite/checkpointer.js'
import { eventFor, seed } from './contract/store-fixtures.js'
import { waitFor } from './helpers/wait-for.js'

test('sqlite: a worker thread checkpoints the WAL into the database file while commits never do', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-checkpoint-'))
  try {
    const path = join(dir, 'webhooks.db')
    const store = await createSqliteStore({ path })
    try {
      const { ws, webhooks: [hook] } = await seed(store, 1)
      assert.ok(hook)
      const before = statSync(path).size
      // ~3,000 WAL pages: past SQLite's automatic checkpoint (1,000 pages) three times over.
      const ids: string[] = []
      for (let turn = 0; turn < 30; turn++) {
        const batch = Array.from({ length: 50 }, () => eventFor([hook]))
        ids.push(...batch.map((input) => input.event.id))
        await Promise.all(batch.map(async (input) => await store.recordEvent({ ...input, event: { ...input.event, body: input.event.body + ' '.repeat(2_000) } })))
      }
      // The rows are in the database file itself, not only in the WAL: something checkpointed.
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

test('sqlite: the checkpointer turns the connection\'s own checkpoints off and does them from its thread', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-checkpoint-'))
  const path = join(dir, 'plain.db')
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.exec('CREATE TABLE t (v TEXT)')
    const checkpointer = startCheckpointer(db, { intervalMs: 50, busyTimeoutMs: 1_000 })
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0)
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    const before = statSync(path).size
    // ~1,500 pages, one commit each: with automatic checkpoints off, only the worker moves them.
    for (let i = 0; i < 1_500; i++) insert.run('x'.repeat(4_000))
    await waitFor('the worker to checkpoint the WAL', () => statSync(path).size > before + 5_000_000)
    await checkpointer.close()
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1_500)
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
