/**
 * PostgreSQL keeps an index entry for every version of a row until VACUUM: each delivery settled
 * leaves one in deliveries_due, in due order, where every claim of the engine starts its walk.
 * The engine's pool walks that index with plain index scans (ENGINE_SESSION_SETTINGS), which mark
 * such entries dead as they pass, so the next claim skips them; a bitmap scan would return them
 * all again on every claim (docs/performance.md, "Ninth round").
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pg from 'pg'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { ENGINE_SESSION_SETTINGS } from '../../src/store/postgres/pool.js'
import { CLAIM_DUE_SQL } from '../../src/store/postgres/queries/claim-due.js'
import type { AttemptResult } from '../../src/store/store.js'
import { eventFor, seed } from '../contract/store-fixtures.js'
import { flattenPlan } from '../helpers/pg-plan.js'
import type { PlanNode } from '../helpers/pg-plan.js'
import { adminQuery, createTestDatabase } from '../helpers/postgres.js'

const SETTLED = 3_000

describe('postgres: claims after many settled deliveries', () => {
  test(`a claim walks past ${SETTLED} settled deliveries' index entries once, then skips them`, async () => {
    // A database of its own: an open transaction of another test in the same database holds back
    // the horizon past which an entry counts as dead, and nothing would be marked.
    const db = await createTestDatabase('kejue_claimdead')
    const store = await createPostgresStore({ connectionString: db.url })
    try {
      // VACUUM would remove the entries this test needs; the server's autovacuum may run.
      await adminQuery('ALTER TABLE deliveries SET (autovacuum_enabled = false)', [], db.url)
      const { webhooks: [webhook] } = await seed(store)
      assert.ok(webhook !== undefined)
      // Handed off as the engine does (recorded leased), then settled: each leaves a dead entry.
      const dueAt = new Date(Date.now() - 60_000)
      const lease = { token: 'tok', owner: 'test', expiresAt: new Date(Date.now() + 60_000) }
      const ids: string[] = []
      for (let i = 0; i < SETTLED; i += 100) {
        await Promise.all(Array.from({ length: 100 }, async () => {
          const input = eventFor([webhook], { dueAt })
          const deliveries = input.deliveries.map((d) => ({ ...d, lease }))
          ids.push(...deliveries.map((d) => d.id))
          await store.recordEvent({ ...input, deliveries })
        }))
      }
      for (let i = 0; i < ids.length; i += 500) {
        const results: AttemptResult[] = ids.slice(i, i + 500).map((deliveryId) => ({
          deliveryId,
          leaseToken: lease.token,
          attempt: { attempt: 1, startedAt: new Date(), durationMs: 3, statusCode: 200, error: null, responseExcerpt: null },
          settlement: { status: 'succeeded' },
        }))
        const { rejected } = await store.completeAttempts(results, new Date())
        assert.deepEqual(rejected, [])
      }

      const startup = Object.entries(ENGINE_SESSION_SETTINGS).map(([k, v]) => `-c ${k}=${v}`).join(' ')
      const client = new pg.Client({ connectionString: db.url, options: startup })
      await client.connect()
      try {
        const claim = async (): Promise<PlanNode[]> => {
          await client.query('BEGIN')
          const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
            `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${CLAIM_DUE_SQL}`, [Date.now(), [], 128, 30_000, 'test'])
          await client.query('ROLLBACK')
          return flattenPlan(explained.rows[0]?.['QUERY PLAN'][0]?.Plan)
        }
        const blocks = (nodes: PlanNode[]): number => nodes
          .filter((n) => n['Relation Name'] === 'deliveries' && String(n['Node Type']).endsWith('Scan'))
          .reduce((sum, n) => sum + (n['Shared Hit Blocks'] ?? 0) + (n['Shared Read Blocks'] ?? 0), 0)
        const first = await claim()
        const scans = first.filter((n) => n['Relation Name'] === 'deliveries' && String(n['Node Type']).endsWith('Scan'))
        assert.ok(scans.length > 0)
        assert.deepEqual(scans.filter((n) => n['Node Type'] !== 'Index Scan').map((n) => n['Node Type']), [], 'deliveries read by index scans only')
        // The first walk visits the table for each dead entry and marks it; the next reads the index
        // only. A walk marks only what is dead to every transaction of the database at that moment,
        // and only once the settlements' commits are flushed (they commit asynchronously): on a
        // loaded machine a transaction of this store's own pools or a late WAL flush may hold one
        // walk back (seen once in a clean-clone CI run), so a few more walks may pass first. With a
        // bitmap scan no walk ever marks anything.
        const before = blocks(first)
        const after: number[] = []
        for (let walk = 0; walk < 6 && !after.some((b) => b * 3 < before); walk++) {
          if (walk > 0) await new Promise((resolve) => setTimeout(resolve, 250))
          after.push(blocks(await claim()))
        }
        assert.ok(after.some((b) => b * 3 < before), `later claims touched ${after.join(', ')} blocks, the first ${before}`)
      } finally {
        await client.end()
      }
    } finally {
      await store.close()
      await db.drop()
    }
  })
})
