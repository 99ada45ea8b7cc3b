/**
 * Migration 0013 (PostgreSQL) on a store that already holds a queue: deliveries_lane is rebuilt
 * over the deliveries with a next attempt, and a claim that leaves a webhook out takes exactly the
 * due deliveries of the others that 0012 would have taken — not a waiting (ordered) one, not a
 * settled one, not one scheduled later. SQLite's 0013 changes nothing.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { TEST_DATABASE_URL, dropSchema, schemaAtVersion } from './helpers/postgres.js'

const WS = 'ws_lanes'
const NOW = Date.now()
/** Deliveries as schema 0012 stored them: [id, webhook, status, next_attempt_at]. */
const ROWS: Array<[string, string, string, number | null]> = [
  ['dlv_due', 'wh_ok', 'pending', NOW - 1_000],
  ['dlv_waiting', 'wh_ok', 'pending', null],
  ['dlv_later', 'wh_ok', 'pending', NOW + 3_600_000],
  ['dlv_done', 'wh_ok', 'succeeded', null],
  ['dlv_dead', 'wh_dead', 'pending', NOW - 2_000],
]

test('postgres: migration 0013 rebuilds the lanes over scheduled deliveries; lane claims take what they took before', async () => {
  const { schema, client } = await schemaAtVersion(12)
  try {
    await client.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, 0)', [WS, 'A'])
    for (const webhook of ['wh_ok', 'wh_dead']) {
      await client.query(`INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
          enabled, job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at)
        VALUES ($1, $2, 'https://example.com/h', '["*"]', NULL, 'none', NULL, 'global', NULL, true, NULL, 5000, 3, 500, 1, 1)`, [webhook, WS])
    }
    for (const [id, webhook, status, next] of ROWS) {
      await client.query('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)', [WS, `evt_${id}`, 'call.ended', '{}', 1])
      await client.query(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status, attempt_count,
          max_attempts, next_attempt_at, created_at, updated_at)
        VALUES ($1, $2, $3, 'call.ended', $4, false, 'https://example.com/h', $5, 0, 4, $6, 1, 1)`,
      [id, WS, `evt_${id}`, webhook, status, next])
    }
  } finally {
    await client.end()
  }
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })
  const check = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
  try {
    await check.connect()
    const { rows: [index] } = await check.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'deliveries_lane'")
    assert.match(index?.indexdef ?? '', /\(webhook_id, next_attempt_at, id\) WHERE \(next_attempt_at IS NOT NULL\)$/)
    const claimed = await store.claimDue({ now: new Date(NOW), limit: 10, leaseMs: 30_000, owner: 'test', excludeWebhookIds: ['wh_dead'] })
    assert.deepEqual(claimed.map((c) => c.deliveryId), ['dlv_due'])
    const rest = await store.claimDue({ now: new Date(NOW), limit: 10, leaseMs: 30_000, owner: 'test' })
    assert.deepEqual(rest.map((c) => c.deliveryId), ['dlv_dead'])
  } finally {
    await check.end()
    await store.close()
    await dropSchema(schema)
  }
})
