import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase } from './open-database.js'
import { withRelaxedSync } from './relaxed-sync.js'

test('withRelaxedSync: NORMAL inside, FULL again after, also when the transaction throws', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-relaxed-'))
  const db = openDatabase({ path: join(dir, 'x.db'), busyTimeoutMs: 1_000 })
  const level = (): unknown => db.pragma('synchronous', { simple: true })
  try {
    assert.equal(level(), 2) // FULL
    assert.equal(withRelaxedSync(db, () => level()), 1) // NORMAL
    assert.equal(level(), 2)
    assert.throws(() => withRelaxedSync(db, () => { throw new Error('rolled back') }), /rolled back/)
    assert.equal(level(), 2)
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
