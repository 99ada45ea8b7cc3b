/**
 * The engine's PostgreSQL statements that address deliveries by id (the claim's final pick, the
 * settlement, lease renewals, holds, parking, an ordered call's next delivery) find each one by
 * its primary key, whatever the statistics. Which index serves them is otherwise the planner's
 * estimate, and without statistics it takes the partial indexes of pending deliveries for tiny:
 * in the isolation bench the claim's pick walked deliveries_due's whole due range once per
 * candidate (~7,500 pages and ~30 ms a claim) and settlements hashed every pending delivery
 * (docs/performance.md, eleventh round). Their status and lease conditions are rechecks
 * (src/store/postgres/queries/recheck.ts) that no index can serve: with the key and every other
 * index gone and sequential scans off, the planner still cannot use those partial indexes for them.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pg from 'pg'
import { ENGINE_SESSION_SETTINGS, INDEX_SCANS_ONLY, clientConfig, resolvePostgresOptions, setLocal } from '../../src/store/postgres/pool.js'
import { CLAIM_BY_LANE_SQL } from '../../src/store/postgres/queries/claim-due.js'
import { COMPLETE_SQL } from '../../src/store/postgres/queries/complete-attempts.js'
import { HOLD_FIRST_ATTEMPTS_SQL, PARK_LEASED_SQL } from '../../src/store/postgres/queries/endpoint-health.js'
import { RENEW_LEASES_SQL } from '../../src/store/postgres/queries/leases.js'
import { MAKE_DUE_SQL } from '../../src/store/postgres/queries/order-lanes.js'
import { eventFor, seed } from '../contract/store-fixtures.js'
import { flattenPlan } from '../helpers/pg-plan.js'
import type { PlanNode } from '../helpers/pg-plan.js'
import { TEST_DATABASE_URL, adminQuery, makePostgresStore } from '../helpers/postgres.js'

const PENDING_INDEXES = ['deliveries_due', 'deliveries_lane']
const now = Date.now()
// A batch as large as the engine's settlements often are.
const BATCH = 200
const ids = Array.from({ length: BATCH }, (_, i) => `dlv_${i}`)
const tokens = ids.map((id) => `tok_${id}`)
const each = <T>(value: T): T[] => ids.map(() => value)

/** Each statement, sample parameters, and the index conditions under which it may use a pending index. */
const STATEMENTS: Array<{ name: string, sql: string, params: unknown[], allowed: (node: PlanNode) => boolean }> = [
  // The lanes (an index-only skip over deliveries_lane) and their heads are walks by webhook;
  // only the pick goes by id.
  {
    name: 'the claim\'s pick',
    sql: CLAIM_BY_LANE_SQL,
    params: [now, ['wh_dead'], 128, 30_000, 'test'],
    allowed: (node) => (node['Node Type'] === 'Index Only Scan' && node['Index Name'] === 'deliveries_lane') || (node['Index Cond'] ?? '').includes('webhook_id'),
  },
  {
    name: 'the settlement',
    sql: COMPLETE_SQL,
    params: [ids, tokens, each('succeeded'), each(null), ids.map((id) => `att_${id}`), each(1), each(now), each(3), each(200), each(null), each(null), now],
    allowed: () => false,
  },
  { name: 'lease renewal', sql: RENEW_LEASES_SQL, params: [ids, tokens, now], allowed: () => false },
  // Its second part holds the webhook's other first attempts: a walk of that webhook's lane.
  { name: 'holding first attempts', sql: HOLD_FIRST_ATTEMPTS_SQL, params: ['wh_x', ids, tokens, now, now], allowed: (node) => (node['Index Cond'] ?? '').startsWith('((webhook_id = ') },
  { name: 'parking leased deliveries', sql: PARK_LEASED_SQL, params: [ids, tokens, now], allowed: () => false },
  { name: 'an ordered call\'s next delivery', sql: MAKE_DUE_SQL, params: [ids, now], allowed: () => false },
]

/** The plan's nodes, after `prepare` (dropping indexes, settings) in a transaction rolled back after. */
async function planInRollback (client: pg.Client, sql: string, params: unknown[], prepare?: () => Promise<void>): Promise<PlanNode[]> {
  await client.query('BEGIN')
  try {
    await prepare?.()
    const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params)
    return flattenPlan(explained.rows[0]?.['QUERY PLAN'][0]?.Plan)
  } finally {
    await client.query('ROLLBACK')
  }
}

describe('postgres: deliveries addressed by id', () => {
  test('are found by primary key, never by walking an index of pending deliveries', async () => {
    const { store, schema, cleanup } = await makePostgresStore()
    // Pending deliveries for the plans to weigh, as many due as waiting.
    const { webhooks: [webhook] } = await seed(store)
    assert.ok(webhook !== undefined)
    for (let i = 0; i < 1_000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => store.recordEvent(eventFor([webhook], { dueAt: new Date(now + (j % 2 === 0 ? -60_000 : 60_000)) }))))
    }
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
    await client.connect()
    const found: string[] = []
    try {
      for (const { name, sql, params, allowed } of STATEMENTS) {
        const nodes = await planInRollback(client, sql, params, async () => {
          await client.query('ALTER TABLE deliveries DROP CONSTRAINT deliveries_pkey CASCADE')
          const others = await client.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = 'deliveries' AND indexname <> ALL ($1::text[])`, [PENDING_INDEXES])
          for (const { indexname } of others.rows) await client.query(`DROP INDEX ${indexname}`)
          await client.query(setLocal(INDEX_SCANS_ONLY))
        })
        found.push(...nodes
          .filter((n) => PENDING_INDEXES.includes(n['Index Name'] ?? '') && !allowed(n))
          .map((n) => `${name}: ${n['Index Name'] ?? ''} ${n['Index Cond'] ?? '(whole)'}`))
      }
    } finally {
      await client.end()
      await cleanup()
    }
    assert.deepEqual(found, [], 'no index of pending deliveries may find rows by id')
  })

  test('the engine\'s connections never read deliveries whole, whatever the statistics', async () => {
    const { store, schema, cleanup } = await makePostgresStore()
    // As the table is a while after a start: settled deliveries and pending ones, no statistics.
    const { webhooks: [webhook] } = await seed(store)
    assert.ok(webhook !== undefined)
    await adminQuery(`ALTER TABLE ${schema}.deliveries SET (autovacuum_enabled = false)`, [])
    for (let i = 0; i < 3_000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, () => store.recordEvent(eventFor([webhook], { dueAt: new Date(now - 60_000) }))))
    }
    await adminQuery(`UPDATE ${schema}.deliveries SET status = 'succeeded', next_attempt_at = NULL WHERE id IN (SELECT id FROM ${schema}.deliveries LIMIT 2500)`, [])
    const client = new pg.Client(clientConfig(resolvePostgresOptions({ connectionString: TEST_DATABASE_URL, schema }), ENGINE_SESSION_SETTINGS))
    await client.connect()
    const found: string[] = []
    try {
      for (const { name, sql, params } of STATEMENTS) {
        found.push(...(await planInRollback(client, sql, params))
          .filter((n) => n['Relation Name'] === 'deliveries' && String(n['Node Type']).endsWith('Scan') && !String(n['Node Type']).startsWith('Index'))
          .map((n) => `${name}: ${n['Node Type'] ?? ''}`))
      }
    } finally {
      await client.end()
      await cleanup()
    }
    // A settlement of a batch hashed the whole table on a young database (a sequential scan, ~15 ms
    // a batch at 25,000 rows in the full bench phase) until the table grew past the planner's
    // estimate; the engine's sessions set enable_seqscan = off (ENGINE_SESSION_SETTINGS).
    assert.deepEqual(found, [], 'every row found through an index')
  })
})
