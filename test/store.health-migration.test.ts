/**
 * Migration 0005 (endpoint health) on a SQLite file with data: the deliveries and attempts tables
 * are rebuilt (a CHECK constraint cannot change in place) and every row survives; a webhook that
 * was disabled reads back disabled "manual". PostgreSQL alters in place (the contract suite runs
 * every migration on both).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { MIGRATIONS, migrate } from '../src/store/sqlite/migrations.js'

test('sqlite: migration 0005 keeps every delivery and attempt and marks disabled webhooks "manual"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-0005-'))
  try {
    const path = join(dir, 'webhooks.db')
    const db = new Database(path)
    try {
      db.pragma('foreign_keys = ON')
      migrate(db, MIGRATIONS.filter((m) => m.version <= 4))
      db.exec(`
        INSERT INTO workspaces VALUES ('ws_1', 'A', 0);
        INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id, enabled,
          job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at)
        VALUES ('wh_off', 'ws_1', 'https://example.com/h', '["*"]', NULL, 'none', NULL, 'global', NULL, 0, NULL, 5000, 3, 500, 1, 7);
        INSERT INTO events VALUES ('ws_1', 'evt_1', 'call.ended', '{}', 2);
        INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, url, status, attempt_count, max_attempts,
          next_attempt_at, last_error, last_status_code, created_at, updated_at)
        VALUES ('dlv_1', 'ws_1', 'evt_1', 'call.ended', 'wh_off', 'https://example.com/h', 'failed', 1, 1, NULL, 'HTTP 500', 500, 2, 3);
        INSERT INTO attempts VALUES ('att_1', 'dlv_1', 1, 2, 12, 500, 'HTTP 500', 'oops');
      `)
    } finally {
      db.close()
    }
    const store = await createSqliteStore({ path })
    try {
      const delivery = await store.getDelivery('ws_1', 'dlv_1')
      assert.equal(delivery?.status, 'failed')
      assert.equal(delivery?.lastError, 'HTTP 500')
      assert.deepEqual((await store.listAttempts('dlv_1')).map((a) => [a.attempt, a.statusCode, a.responseExcerpt]), [[1, 500, 'oops']])
      const webhook = await store.getWebhook('ws_1', 'wh_off')
      assert.equal(webhook?.disabledReason, 'manual')
      assert.deepEqual(webhook?.disabledAt, new Date(7))
      assert.equal(webhook?.health.breaker, 'closed')
    } finally {
      await store.close()
    }
    const check = new Database(path)
    try {
      assert.deepEqual(check.pragma('foreign_key_check'), [])
      assert.equal(check.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '%before_0005'").get()?.n, 0)
    } finally {
      check.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('sqlite: migration 0005 applied after a later migration keeps that migration\'s columns and indexes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-0005-late-'))
  try {
    const path = join(dir, 'webhooks.db')
    const db = new Database(path)
    try {
      db.pragma('foreign_keys = ON')
      migrate(db, MIGRATIONS.filter((m) => m.version !== 5))
    } finally {
      db.close()
    }
    const before = new Database(path)
    const shape = (d: Database.Database): { indexes: string[], attempts: string[] } => ({
      indexes: d.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('deliveries', 'attempts') AND sql IS NOT NULL ORDER BY name").all().map((r) => r.name),
      attempts: d.prepare<[], { name: string }>('SELECT name FROM pragma_table_info(\'attempts\') ORDER BY cid').all().map((r) => r.name),
    })
    const expected = shape(before)
    before.close()
    const store = await createSqliteStore({ path })
    await store.close()
    const after = new Database(path)
    try {
      assert.deepEqual(shape(after), expected)
      assert.equal((after.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'deliveries'").get()?.sql ?? '').includes("'parked'"), true)
    } finally {
      after.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
