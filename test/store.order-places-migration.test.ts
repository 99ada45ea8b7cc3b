/**
 * Migration 0010 on stores that already hold per-call ordered deliveries: every delivery of a
 * call gets its place in acceptance order (created_at, then the old place, then the id), however
 * 0007 numbered them (from 1 again whenever a queue emptied; one place for all parked ones), and
 * an event accepted afterwards takes the next place. Both drivers, starting from schema 0009.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { MIGRATIONS as SQLITE_MIGRATIONS, migrate } from '../src/store/sqlite/migrations.js'
import type { Store } from '../src/store/store.js'
import { TEST_DATABASE_URL, dropSchema, schemaAtVersion } from './helpers/postgres.js'

const WS = 'ws_order'
/** Deliveries as schema 0009 stored them: [id, call, status, created_at, order_seq, next_attempt_at]. */
const ROWS: Array<[string, string | null, string, number, number | null, number | null]> = [
  ['dlv_a1', 'job_a', 'succeeded', 1, 1, null],
  ['dlv_a2', 'job_a', 'failed', 2, 1, null], // accepted once a1 had settled: 0007 began again at 1
  ['dlv_a3', 'job_a', 'pending', 3, 1, 3],
  ['dlv_a5', 'job_a', 'parked', 5, 2, null], // parked ones all took the place after the pending one
  ['dlv_a4', 'job_a', 'pending', 4, 2, null],
  ['dlv_a6', 'job_a', 'parked', 5, 2, null], // same millisecond as a5: the id decides
  ['dlv_b1', 'job_b', 'failed', 2, 1, null],
  ['dlv_n1', null, 'succeeded', 1, null, null],
]
const EXPECTED = { dlv_a1: 1, dlv_a2: 2, dlv_a3: 3, dlv_a4: 4, dlv_a5: 5, dlv_a6: 6, dlv_b1: 1, dlv_n1: null }

/** The event accepted after the upgrade: the place after a6. */
async function recordLater (store: Store): Promise<string> {
  const id = 'dlv_a7'
  await store.recordEvent({
    event: { id: 'evt_a7', workspaceId: WS, type: 'call.ended', body: '{}', createdAt: new Date(10) },
    deliveries: [{ id, webhookId: 'wh_1', url: 'https://example.com/h', maxAttempts: 4, nextAttemptAt: new Date(10), orderKey: 'job_a' }],
  })
  return id
}

test('sqlite: migration 0010 places the ordered deliveries stored before it in acceptance order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-0010-'))
  try {
    const path = join(dir, 'webhooks.db')
    const db = new Database(path)
    try {
      migrate(db, SQLITE_MIGRATIONS.filter((m) => m.version <= 9))
      db.exec(`INSERT INTO workspaces VALUES ('${WS}', 'A', 0);
        INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id, enabled,
          job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at, ordering)
        VALUES ('wh_1', '${WS}', 'https://example.com/h', '["*"]', NULL, 'none', NULL, 'global', NULL, 1, NULL, 5000, 3, 500, 1, 1, 'per_call')`)
      for (const [id, call, status, createdAt, seq, next] of ROWS) {
        db.prepare('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES (?, ?, ?, ?, ?)').run(WS, `evt_${id}`, 'call.ended', '{}', createdAt)
        db.prepare(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, url, status, attempt_count, max_attempts,
            next_attempt_at, created_at, updated_at, order_key, order_seq) VALUES (?, ?, ?, 'call.ended', 'wh_1', 'https://example.com/h', ?, 0, 4, ?, ?, ?, ?, ?)`)
          .run(id, WS, `evt_${id}`, status, next, createdAt, createdAt, call, seq)
      }
    } finally {
      db.close()
    }
    const store = await createSqliteStore({ path })
    let later: string
    try {
      later = await recordLater(store)
    } finally {
      await store.close()
    }
    const after = new Database(path, { readonly: true })
    try {
      const rows = after.prepare<[], { id: string, order_seq: number | null, next_attempt_at: number | null }>('SELECT id, order_seq, next_attempt_at FROM deliveries').all()
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.order_seq])), { ...EXPECTED, [later]: 7 })
      assert.equal(rows.find((r) => r.id === later)?.next_attempt_at, null, 'a3 and a4 are pending: it waits')
    } finally {
      after.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('postgres: migration 0010 places the ordered deliveries stored before it in acceptance order', async () => {
  const { schema, client } = await schemaAtVersion(9)
  try {
    await client.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, 0)', [WS, 'A'])
    await client.query(`INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
        enabled, job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at, ordering)
      VALUES ('wh_1', $1, 'https://example.com/h', '["*"]', NULL, 'none', NULL, 'global', NULL, true, NULL, 5000, 3, 500, 1, 1, 'per_call')`, [WS])
    for (const [id, call, status, createdAt, seq, next] of ROWS) {
      await client.query('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)', [WS, `evt_${id}`, 'call.ended', '{}', createdAt])
      await client.query(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status, attempt_count,
          max_attempts, next_attempt_at, created_at, updated_at, order_key, order_seq)
        VALUES ($1, $2, $3, 'call.ended', 'wh_1', false, 'https://example.com/h', $4, 0, 4, $5, $6, $6, $7, $8)`,
      [id, WS, `evt_${id}`, status, next, createdAt, call, seq])
    }
  } finally {
    await client.end()
  }
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })
  const check = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
  try {
    const later = await recordLater(store)
    await check.connect()
    const { rows } = await check.query<{ id: string, order_seq: string | null, next_attempt_at: string | null }>('SELECT id, order_seq, next_attempt_at FROM deliveries')
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.order_seq === null ? null : Number(r.order_seq)])), { ...EXPECTED, [later]: 7 })
    assert.equal(rows.find((r) => r.id === later)?.next_attempt_at, null, 'a3 and a4 are pending: it waits')
  } finally {
    await check.end()
    await store.close()
    await dropSchema(schema)
  }
})
