/**
 * Event batches commit with synchronous=NORMAL and fsync the WAL off the main thread before
 * they are acknowledged (src/store/sqlite/wal-sync.ts). These tests hold that path to its
 * promises: acknowledgements come only after the sync, close() waits for syncs in flight instead
 * of failing them, and many overlapping batches (sharing fdatasyncs) all resolve with their rows.
 * (That an fdatasync makes a NORMAL commit durable is the kernel's promise; SIGKILL durability is
 * test/store.sqlite-durability.test.ts.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createWalSync } from '../src/store/sqlite/wal-sync.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { eventFor, seed } from './contract/store-fixtures.js'

test('sqlite: overlapping event batches all resolve, and close() waits for their WAL syncs', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-walsync-'))
  try {
    const path = join(dir, 'webhooks.db')
    const store = await createSqliteStore({ path })
    const { webhooks: [hook] } = await seed(store, 1)
    assert.ok(hook)
    const ids: string[] = []
    const pending: Array<Promise<unknown>> = []
    // 20 batches in 20 turns of the event loop: while one fdatasync runs, later batches queue for the next.
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 5; i++) {
        const input = eventFor([hook])
        ids.push(input.event.id)
        pending.push(store.recordEvent(input))
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    // Closed while the last batches still sync: they must resolve, not fail on a closed file.
    const closing = store.close()
    const outcomes = await Promise.allSettled(pending)
    await closing
    assert.deepEqual(outcomes.filter((o) => o.status === 'rejected'), [])

    const db = new Database(path, { readonly: true })
    try {
      const found = db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }
      assert.equal(found.n, ids.length)
    } finally {
      db.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('sqlite: WAL syncs may overlap, work on a fresh connection after the WAL was deleted, and do nothing in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-walsync-'))
  try {
    const path = join(dir, 'x.db')
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.exec('CREATE TABLE t (x)')
    db.prepare('INSERT INTO t VALUES (1)').run()
    const wal = createWalSync(db)
    await wal.sync()
    // Three overlapping calls: all resolve.
    await Promise.all([wal.sync(), wal.sync(), wal.sync()])
    // The last connection closing deletes the WAL; a new connection makes a new file.
    await wal.close()
    db.close()
    const again = new Database(path)
    again.prepare('INSERT INTO t VALUES (2)').run()
    const wal2 = createWalSync(again)
    await wal2.sync()
    await wal2.close()
    again.close()

    const memory = new Database(':memory:')
    await createWalSync(memory).sync()
    memory.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
