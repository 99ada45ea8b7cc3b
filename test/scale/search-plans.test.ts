/**
 * Delivery search and chart reads stay index range scans at scale (docs/storage.md, "Delivery
 * search"): on a store seeded with SEEDED deliveries (and their events and attempts) in one
 * workspace, every filter the API offers is answered without walking the deliveries table or
 * sorting the workspace. Plans, not timings: SQLite's EXPLAIN QUERY PLAN and PostgreSQL's
 * EXPLAIN ANALYZE rows touched (PostgreSQL: without statistics, then after ANALYZE).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { LISTING_SETTINGS, listDeliveriesQuery } from '../../src/store/postgres/queries/deliveries.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { listDeliveriesSql } from '../../src/store/sqlite/queries/list-deliveries.js'
import type { DeliveryFilter } from '../../src/store/store.js'
import { deliveryIdRange, listingRanges } from '../../src/store/delivery-filter.js'
import { idTimeBound } from '../../src/util/ids.js'
import { TEST_DATABASE_URL, makePostgresStore } from '../helpers/postgres.js'

const SEEDED = 200_000
const WEBHOOKS = 50
const NOW = Date.now()
const WS = 'ws_scale'
const SPAN_MS = 7 * 86_400_000

/** Row i: created SPAN_MS × i / SEEDED after the start, webhook i mod WEBHOOKS, job job_<i>, contact ct_<i mod 5000>. */
const filters: Array<[string, Omit<DeliveryFilter, 'workspaceId' | 'limit'>]> = [
  ['no filter', {}],
  ['webhook', { webhookId: 'wh_7' }],
  ['webhook ids', { webhookIds: ['wh_7', 'wh_8'] }],
  ['webhook ids and status', { webhookIds: ['wh_7', 'wh_8'], status: 'failed' }],
  ['webhook ids and event type', { webhookIds: ['wh_7', 'wh_8'], eventType: 'call.analyzed' }],
  // More than MAX_WEBHOOK_RANGES (a repeated id counts once): each status's range, filtered by webhook.
  ['many webhook ids', { webhookIds: [...Array.from({ length: 70 }, (_, i) => `wh_${i % 50}`), ...Array.from({ length: 15 }, (_, i) => `wh_missing_${i}`)] }],
  ['webhook and event type', { webhookId: 'wh_7', eventType: 'call.analyzed' }],
  ['job_id', { jobId: 'job_123456' }],
  ['contact_id', { contactId: 'ct_42' }],
  ['event_id', { eventId: 'evt_123456' }],
  ['status', { status: 'failed' }],
  ['event type', { eventType: 'call.analyzed' }],
  ['webhook and status', { webhookId: 'wh_7', status: 'failed' }],
  ['since and until', { since: new Date(NOW - 86_400_000), until: new Date(NOW - 3_600_000) }],
  ['webhook and since', { webhookId: 'wh_7', since: new Date(NOW - 86_400_000) }],
  ['job and status', { jobId: 'job_123456', status: 'failed' }],
]

function deliveryId (i: number): string {
  return idTimeBound('dlv', NOW - SPAN_MS + Math.floor((SPAN_MS * i) / SEEDED)) + String(i).padStart(16, '0')
}

function row (i: number): Record<string, unknown> {
  const type = i % 3 === 0 ? 'call.ended' : i % 3 === 1 ? 'call.started' : 'call.analyzed'
  const created = NOW - SPAN_MS + Math.floor((SPAN_MS * i) / SEEDED)
  const data = type === 'call.analyzed' ? { call: { id: `job_${i}` }, contact_id: `ct_${i % 5000}` } : { job_id: `job_${i}`, contact_id: `ct_${i % 5000}` }
  return {
    id: deliveryId(i),
    event_id: `evt_${i}`,
    type,
    body: JSON.stringify({ event: type, event_id: `evt_${i}`, workspace_id: WS, timestamp: new Date(created).toISOString(), data, metadata: {} }),
    webhook_id: `wh_${i % WEBHOOKS}`,
    status: i % 10 === 0 ? 'failed' : 'succeeded',
    created,
  }
}

describe(`delivery search plans with ${SEEDED} deliveries`, () => {
  test('sqlite: every filter is an index search, never a scan of deliveries or a sort of the workspace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-search-plans-'))
    const path = join(dir, 'webhooks.db')
    const store = await createSqliteStore({ path })
    await store.close()
    const db = new Database(path)
    try {
      db.prepare("INSERT INTO workspaces (id, name, created_at) VALUES (?, 'scale', 0)").run(WS)
      const hook = db.prepare(`INSERT INTO webhooks (id, workspace_id, url, events, signing_method, scope_type, enabled, timeout_ms, max_retries, backoff_ms, created_at, updated_at)
        VALUES (?, ?, 'https://example.com', '["*"]', 'none', 'global', 1, 5000, 3, 500, 0, 0)`)
      const ev = db.prepare('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES (?, ?, ?, ?, ?)')
      const dl = db.prepare(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, url, status, attempt_count, max_attempts, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 'https://example.com', ?, 1, 4, ?, ?)`)
      const at = db.prepare('INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, webhook_id) VALUES (?, ?, 1, ?, 10, 200, ?)')
      db.transaction(() => {
        for (let w = 0; w < WEBHOOKS; w++) hook.run(`wh_${w}`, WS)
        for (let i = 0; i < SEEDED; i++) {
          const r = row(i)
          ev.run(WS, r.event_id, r.type, r.body, r.created)
          dl.run(r.id, WS, r.event_id, r.type, r.webhook_id, r.status, r.created, r.created)
          at.run(`att_${i}`, r.id, r.created, r.webhook_id)
        }
      })()
      for (const analyzed of [false, true]) {
        if (analyzed) db.exec('ANALYZE')
        for (const [name, filter] of filters) {
          const keys = Object.keys(filter) as Array<keyof DeliveryFilter>
          const range = deliveryIdRange(filter)
          const ranges = listingRanges({ workspaceId: WS, limit: 21, ...filter })
          const sql = listDeliveriesSql(keys as never, ranges)
          const params: Record<string, unknown> = { workspaceId: WS, limit: 21, ...filter, idFrom: range.idFrom, idTo: range.idTo }
          if (ranges.by === 'webhook') ranges.ids.forEach((id, i) => { params[`webhook${i}`] = id })
          else if (filter.webhookIds !== undefined) params.webhookIds = JSON.stringify(filter.webhookIds)
          if (filter.since !== undefined) params.since = filter.since.getTime()
          if (filter.until !== undefined) params.until = filter.until.getTime()
          for (const key of Object.keys(params)) if (!sql.includes(`@${key}`)) delete params[key]
          const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params).map((s) => (s as { detail: string }).detail)
          const text = plan.join('; ')
          assert.ok(!plan.some((step) => /^SCAN d\b/.test(step)), `${name} (analyzed ${analyzed}): no scan of deliveries: ${text}`)
          if (filter.jobId !== undefined || filter.contactId !== undefined) {
            assert.match(text, /events_by_(job|contact)/, `${name}: the job/contact expression index: ${text}`)
          } else {
            // A merge of status ranges sorts each range's page (at most `limit` rows) to merge them:
            // a sort right after reading a subquery's rows, never one of the index's.
            const sorted = plan.flatMap((step, i) => /TEMP B-TREE FOR ORDER BY/.test(step) ? [plan[i - 1] ?? ''] : [])
            assert.ok(sorted.every((before) => /^SCAN \(subquery-\d+\)$/.test(before)), `${name} (analyzed ${analyzed}): newest first from the index, no sort: ${text}`)
          }
          // The same filter answers through the store, in id order.
          const rows = db.prepare(sql).all(params) as Array<{ id: string }>
          assert.deepEqual(rows.map((r) => r.id), [...rows.map((r) => r.id)].sort().reverse())
        }
        const samples = db.prepare('EXPLAIN QUERY PLAN SELECT started_at, duration_ms, status_code FROM attempts WHERE webhook_id = ? AND started_at >= ? AND started_at < ? ORDER BY webhook_id, started_at')
          .all('wh_7', NOW - 3_600_000, NOW).map((s) => (s as { detail: string }).detail).join('; ')
        assert.match(samples, /attempts_by_webhook_time/, `chart samples: ${samples}`)
      }
    } finally {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('postgres: every filter touches about a page of rows, not the workspace', async () => {
    const { store, schema, cleanup } = await makePostgresStore()
    await store.close()
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await client.connect()
    try {
      await client.query(`SET search_path TO ${schema}`)
      // No statistics until the test asks for them: the server's autovacuum must not analyze meanwhile.
      await client.query('ALTER TABLE deliveries SET (autovacuum_enabled = false)')
      await client.query('ALTER TABLE events SET (autovacuum_enabled = false)')
      await client.query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, 'scale', 0)", [WS])
      await client.query(`INSERT INTO webhooks (id, workspace_id, url, events, signing_method, scope_type, enabled, timeout_ms, max_retries, backoff_ms, created_at, updated_at)
        SELECT 'wh_' || w, $1, 'https://example.com', '["*"]', 'none', 'global', true, 5000, 3, 500, 0, 0 FROM generate_series(0, ${WEBHOOKS - 1}) w`, [WS])
      for (let from = 0; from < SEEDED; from += 20_000) {
        const rows = Array.from({ length: Math.min(20_000, SEEDED - from) }, (_, k) => row(from + k))
        const col = (name: string): unknown[] => rows.map((r) => r[name])
        await client.query(`INSERT INTO events (workspace_id, id, type, body, created_at)
          SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[])`, [WS, col('event_id'), col('type'), col('body'), col('created')])
        await client.query(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status, attempt_count, max_attempts, created_at, updated_at)
          SELECT d.id, $1, d.event_id, d.type, d.webhook_id, false, 'https://example.com', d.status, 1, 4, d.created, d.created
          FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS d(id, event_id, type, webhook_id, status, created)`,
        [WS, col('id'), col('event_id'), col('type'), col('webhook_id'), col('status'), col('created')])
        await client.query(`INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, webhook_id)
          SELECT 'att_' || a.id, a.id, 1, a.created, 10, 200, a.webhook_id FROM unnest($1::text[], $2::bigint[], $3::text[]) AS a(id, created, webhook_id)`,
        [col('id'), col('created'), col('webhook_id')])
      }
      // The tables as right after the writes (no statistics: a young database, or autovacuum
      // behind), then analyzed; the listings run as the store runs them (LISTING_SETTINGS).
      interface PlanNode { 'Node Type': string, 'Relation Name'?: string, 'Actual Rows'?: number, 'Actual Loops'?: number, 'Rows Removed by Filter'?: number, Plans?: PlanNode[] }
      const touched = (node: PlanNode): number => {
        const own = /Scan/.test(node['Node Type']) && node['Relation Name'] !== undefined
          ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1)
          : 0
        return own + (node.Plans ?? []).reduce((sum, child) => sum + touched(child), 0)
      }
      for (const statistics of ['none', 'analyzed']) {
        if (statistics === 'analyzed') await client.query('ANALYZE')
        await client.query('BEGIN')
        try {
          await client.query(LISTING_SETTINGS)
          for (const [name, filter] of filters) {
            const query = listDeliveriesQuery({ workspaceId: WS, limit: 20, ...filter })
            const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${query.text}`, query.values)
            const plan = explained.rows[0]?.['QUERY PLAN'][0]?.Plan
            assert.ok(plan)
            const rows = touched(plan)
            // A page is 21 rows; a filter with few matches (job, event) reads those; status or type
            // reads its index in id order until the page is full. Nothing near the workspace's size.
            assert.ok(rows < 2_000, `statistics ${statistics}, ${name}: ${rows} rows touched: ${JSON.stringify(plan)}`)
          }
        } finally {
          await client.query('ROLLBACK')
        }
      }
      const samples = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON)
        SELECT started_at, duration_ms, status_code FROM attempts WHERE webhook_id = $1 AND started_at >= $2 AND started_at < $3 ORDER BY started_at`,
      ['wh_7', NOW - 3_600_000, NOW])
      const plan = samples.rows[0]?.['QUERY PLAN'][0]?.Plan
      assert.ok(plan && touched(plan) < 200, `chart samples read the window only: ${JSON.stringify(plan)}`)
    } finally {
      await client.end()
      await cleanup()
    }
  })
})
