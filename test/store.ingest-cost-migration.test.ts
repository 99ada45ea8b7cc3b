/**
 * Migration 0009 on stores that already hold events: the job and contact ids that delivery search
 * finds an event by are filled from the stored bodies, so `?job_id=` and `?contact_id=` find the
 * events accepted before the upgrade exactly as before. Both drivers, starting from schema 0008.
 * On PostgreSQL, deliveries pages keep room for a claim's in-place (HOT) update.
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

const WS = 'ws_keys'
/** Events as schema 0008 stored them: [id, type, data]; one delivery each (dlv_<id>). */
const EVENTS: Array<[string, string, Record<string, unknown>]> = [
  ['evt_1', 'call.ended', { job_id: 'job_1', contact_id: 'ct_1' }],
  ['evt_2', 'call.started', { job_id: 'job_2', contact: { id: 'ct_1', name: 'Jane' } }],
  ['evt_3', 'call.analyzed', { call: { id: 'job_1' }, contact_id: 'ct_2' }],
  ['evt_4', 'campaign.started', { campaign_id: 'camp_1' }],
  // Ids are strings (events/event-keys.ts): a number is not a key, before or after the upgrade.
  ['evt_5', 'campaign.started', { job_id: 42, contact: { id: 7 } }],
]

function body (id: string, type: string, data: Record<string, unknown>): string {
  return JSON.stringify({ event: type, event_id: id, workspace_id: WS, timestamp: '2026-01-01T00:00:00.000Z', data, metadata: {} })
}

async function assertFound (store: Store): Promise<void> {
  const found = async (filter: { jobId?: string, contactId?: string }): Promise<string[]> =>
    (await store.listDeliveries({ workspaceId: WS, limit: 100, ...filter })).data.map((d) => d.eventId).sort()
  assert.deepEqual(await found({ jobId: 'job_1' }), ['evt_1', 'evt_3'], 'data.job_id and data.call.id')
  assert.deepEqual(await found({ jobId: 'job_2' }), ['evt_2'])
  assert.deepEqual(await found({ contactId: 'ct_1' }), ['evt_1', 'evt_2'], 'data.contact_id and data.contact.id')
  assert.deepEqual(await found({ contactId: 'ct_2' }), ['evt_3'])
  assert.deepEqual(await found({ jobId: 'camp_1' }), [])
  assert.deepEqual(await found({ jobId: '42' }), [])
  assert.deepEqual(await found({ contactId: '7' }), [])
}

test('sqlite: migration 0009 fills the event keys of events stored before it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-0009-'))
  try {
    const path = join(dir, 'webhooks.db')
    const db = new Database(path)
    try {
      migrate(db, SQLITE_MIGRATIONS.filter((m) => m.version <= 8))
      db.exec(`INSERT INTO workspaces VALUES ('${WS}', 'A', 0);
        INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id, enabled,
          job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at)
        VALUES ('wh_1', '${WS}', 'https://example.com/h', '["*"]', NULL, 'none', NULL, 'global', NULL, 1, NULL, 5000, 3, 500, 1, 1)`)
      for (const [i, [id, type, data]] of EVENTS.entries()) {
        db.prepare('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES (?, ?, ?, ?, ?)').run(WS, id, type, body(id, type, data), i)
        db.prepare(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, url, status, attempt_count, max_attempts,
            next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'wh_1', 'https://example.com/h', 'succeeded', 1, 4, NULL, ?, ?)`)
          .run(`dlv_${id}`, WS, id, type, i, i)
      }
    } finally {
      db.close()
    }
    const store = await createSqliteStore({ path })
    try {
      await assertFound(store)
    } finally {
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('postgres: migration 0009 fills the event keys of events stored before it', async () => {
  const { schema, client } = await schemaAtVersion(8)
  try {
    await client.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, 0)', [WS, 'A'])
    await client.query(`INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
        enabled, job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at)
      VALUES ('wh_1', $1, 'https://example.com/h', '["*"]', NULL, 'none', NULL, 'global', NULL, true, NULL, 5000, 3, 500, 1, 1)`, [WS])
    for (const [i, [id, type, data]] of EVENTS.entries()) {
      await client.query('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)', [WS, id, type, body(id, type, data), i])
      await client.query(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status, attempt_count,
          max_attempts, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'wh_1', false, 'https://example.com/h', 'succeeded', 1, 4, NULL, $5, $5)`,
      [`dlv_${id}`, WS, id, type, i])
    }
  } finally {
    await client.end()
  }
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })
  try {
    await assertFound(store)
    const check = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await check.connect()
    try {
      const options = await check.query<{ reloptions: string[] | null }>(
        "SELECT c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'deliveries'", [schema])
      assert.deepEqual(options.rows[0]?.reloptions, ['fillfactor=50'])
      // A node of the release before 0009, still serving during a rolling upgrade, writes events
      // without the key columns: they are filled from the body, so its events stay findable.
      await check.query(`INSERT INTO ${schema}.events (workspace_id, id, type, body, created_at) VALUES ($1, 'evt_old', 'call.ended', $2, 9)`,
        [WS, body('evt_old', 'call.ended', { job_id: 'job_9', contact: { id: 'ct_9' } })])
      await check.query(`INSERT INTO ${schema}.deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status, attempt_count,
          max_attempts, next_attempt_at, created_at, updated_at) VALUES ('dlv_old', $1, 'evt_old', 'call.ended', 'wh_1', false, 'https://example.com/h', 'succeeded', 1, 4, NULL, 9, 9)`, [WS])
      const search = async (filter: { jobId?: string, contactId?: string }): Promise<string[]> =>
        (await store.listDeliveries({ workspaceId: WS, limit: 10, ...filter })).data.map((d) => d.eventId)
      assert.deepEqual(await search({ jobId: 'job_9' }), ['evt_old'])
      assert.deepEqual(await search({ contactId: 'ct_9' }), ['evt_old'])
    } finally {
      await check.end()
    }
  } finally {
    await store.close()
    await dropSchema(schema)
  }
})
