/**
 * KEJUE_DATABASE_QUERY_TIMEOUT_MS bounds how long the PostgreSQL store waits for a statement's
 * answer (a silent connection: test/e2e/postgres-outage.test.ts). Statements whose work grows with
 * a webhook's whole backlog wait longer (BULK_QUERY_TIMEOUT_MS, src/store/postgres/pool.ts): on
 * millions of deliveries they take minutes and would otherwise fail for good. Staged here with a
 * row lock held longer than the query timeout, which the replay must wait out.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { eventFor, seed } from './contract/store-fixtures.js'
import { dropSchema, randomSchemaName, TEST_DATABASE_URL } from './helpers/postgres.js'

test('postgres: enabling a webhook with replay waits out a slow statement longer than the query timeout; an ordinary statement does not', { timeout: 60_000 }, async () => {
  const schema = randomSchemaName()
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, queryTimeoutMs: 1_000 })
  const locker = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
  await locker.connect()
  try {
    const { ws, webhooks } = await seed(store, 1)
    const [webhook] = webhooks
    assert.ok(webhook !== undefined)
    for (let i = 0; i < 3; i++) await store.recordEvent(eventFor(webhooks))
    assert.ok(await store.disableWebhook(ws.id, webhook.id, 'manual', new Date()) !== null)

    // Another session holds the parked deliveries' rows for 2.5 s, 2.5 times the query timeout.
    await locker.query('BEGIN')
    await locker.query('SELECT id FROM deliveries WHERE webhook_id = $1 FOR UPDATE', [webhook.id])
    const unlock = setTimeout(() => { void locker.query('COMMIT') }, 2_500)
    const started = Date.now()
    const enabled = await store.enableWebhook(ws.id, webhook.id, true, new Date())
    clearTimeout(unlock)
    assert.ok(Date.now() - started >= 2_000, 'it did wait for the lock')
    assert.equal(enabled?.enabled, true)
    const page = await store.listDeliveries({ workspaceId: ws.id, webhookId: webhook.id, limit: 10 })
    assert.deepEqual(page.data.map((d) => d.status), ['pending', 'pending', 'pending'], 'replayed')

    // The same wait in an ordinary statement is given up after the query timeout: 503.
    await locker.query('BEGIN')
    await locker.query('SELECT id FROM webhooks WHERE id = $1 FOR UPDATE', [webhook.id])
    const unlockAgain = setTimeout(() => { void locker.query('COMMIT') }, 2_500)
    await assert.rejects(store.updateWebhook(ws.id, webhook.id, { name: 'renamed' }, new Date()), { code: 'STORE_UNAVAILABLE' })
    clearTimeout(unlockAgain)
    await locker.query('COMMIT')
  } finally {
    await locker.end()
    await store.close()
    await dropSchema(schema)
  }
})
