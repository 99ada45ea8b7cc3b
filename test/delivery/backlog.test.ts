/**
 * A large backlog to a dead endpoint must not cost other webhooks anything (docs/scaling.md):
 * claims that leave the dead webhook out step over its lane instead of reading its rows. Checked on
 * both stores with tens of thousands of rows written straight into the store (bench/backlog.ts),
 * by behaviour (what is claimed and delivered) and by plan (which index, how many rows read), never
 * by timing.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { seedBacklog } from '../../bench/backlog.js'
import type { BacklogTarget } from '../../bench/backlog.js'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { ENGINE_SESSION_SETTINGS, clientConfig, resolvePostgresOptions } from '../../src/store/postgres/pool.js'
import { CLAIM_BY_LANE_SQL } from '../../src/store/postgres/queries/claim-due.js'
import { CLAIM_SQL } from '../../src/store/sqlite/queries/claim-due.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import { USER_AGENT } from '../../src/util/version.js'
import { eventFor, webhookInput } from '../contract/store-fixtures.js'
import { flattenPlan } from '../helpers/pg-plan.js'
import type { PlanNode } from '../helpers/pg-plan.js'
import { TEST_DATABASE_URL, adminQuery, makePostgresStore } from '../helpers/postgres.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../simulator/helpers.js'

const BACKLOG = 30_000

interface Opened { store: Store, target: BacklogTarget, cleanup (): Promise<void> }

async function openSqlite (): Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-backlog-'))
  const path = join(dir, 'webhooks.db')
  const store = await createSqliteStore({ path })
  return {
    store,
    target: { driver: 'sqlite', path },
    async cleanup () {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function openPostgres (): Promise<Opened> {
  const { store, schema, cleanup } = await makePostgresStore()
  // Without statistics means without: the server's autovacuum must not analyze the table meanwhile.
  await adminQuery(`ALTER TABLE ${schema}.deliveries SET (autovacuum_enabled = false)`, [])
  return { store, target: { driver: 'postgres', connectionString: TEST_DATABASE_URL, schema }, cleanup }
}

/** A workspace with a dead webhook holding BACKLOG due rows, all due before anything else. */
async function withDeadBacklog (store: Store, target: BacklogTarget, deadUrl: string, timeoutMs = 5_000) {
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'backlog', createdAt: new Date(0) })
  const dead = await store.createWebhook(webhookInput(workspaceId, { url: deadUrl, events: ['call.started'], timeoutMs }), new Date(0))
  const healthyUrl = 'https://example.com/healthy'
  const healthy = await store.createWebhook(webhookInput(workspaceId, { url: healthyUrl, events: ['call.ended'] }), new Date(0))
  await seedBacklog(target, { webhook: dead, count: BACKLOG, firstDueAt: Date.now() - 3_600_000, analyze: false })
  return { workspaceId, dead, healthy }
}

for (const [driver, open] of [['sqlite', openSqlite], ['postgres', openPostgres]] as const) {
  describe(`${driver}: a backlog to a dead endpoint`, () => {
    test(`claims leave out the dead webhook without reading its ${BACKLOG} due rows`, async () => {
      const { store, target, cleanup } = await open()
      try {
        const { dead, healthy } = await withDeadBacklog(store, target, 'https://example.com/dead')
        const wanted: string[] = []
        for (let i = 0; i < 5; i++) {
          const input = eventFor([healthy], { dueAt: new Date(Date.now() - 1_000 + i) })
          await store.recordEvent(input)
          wanted.push(...input.deliveries.map((d) => d.id))
        }
        const now = new Date()
        const claimed = await store.claimDue({ now, limit: 128, leaseMs: 30_000, owner: 'test', excludeWebhookIds: [dead.id] })
        assert.deepEqual(claimed.map((c) => c.deliveryId), wanted)
        const theirs = await store.claimDue({ now, limit: 3, leaseMs: 30_000, owner: 'test' })
        assert.deepEqual(theirs.map((c) => c.webhook?.id), [dead.id, dead.id, dead.id], 'its rows are first in due order')

        if (target.driver === 'sqlite') {
          const db = new Database(target.path, { readonly: true })
          try {
            const plan = (sql: string, params: object): string =>
              db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params).map((row) => (row as { detail: string }).detail).join('\n')
            // One seek per lane and one range per lane read: no SCAN of deliveries.
            assert.match(plan(CLAIM_SQL.nextLane, { after: '' }), /SEARCH d USING (COVERING )?INDEX deliveries_lane \(webhook_id>\?\)/)
            assert.match(plan(CLAIM_SQL.laneDue, { webhook: healthy.id, now: now.getTime(), limit: 128 }),
              /SEARCH d USING INDEX deliveries_lane \(webhook_id=\? AND next_attempt_at<\?\)/)
            assert.doesNotMatch(plan(CLAIM_SQL.one, ['x']), /SCAN d/)
          } finally {
            db.close()
          }
        } else {
          // Claims run on the engine's pool, with its session settings.
          const client = new pg.Client(clientConfig(resolvePostgresOptions({ connectionString: target.connectionString, schema: target.schema ?? undefined }), ENGINE_SESSION_SETTINGS))
          await client.connect()
          try {
            // A healthy lane with a batch and more due, so that the claim has candidates to pick,
            // and a lane of retries all scheduled later, which a claim must step over at once.
            for (let i = 0; i < 200; i++) await store.recordEvent(eventFor([healthy], { dueAt: new Date(Date.now() - 500) }))
            const later = await store.createWebhook(webhookInput(healthy.workspaceId, { url: 'https://example.com/later', events: ['call.started'] }), new Date(0))
            await seedBacklog(target, { webhook: later, count: BACKLOG, firstDueAt: Date.now() + 3_600_000, analyze: false })
            // As the table is right after the writes (no statistics yet: autovacuum has not run,
            // as on a fresh database), then with them: the plan must not depend on them.
            for (const statistics of ['none', 'analyzed']) {
              if (statistics === 'analyzed') await client.query('ANALYZE deliveries')
              await client.query('BEGIN')
              const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${CLAIM_BY_LANE_SQL}`,
                [Date.now(), [dead.id], 128, 30_000, 'test'])
              await client.query('ROLLBACK')
              const nodes = flattenPlan(explained.rows[0]?.['QUERY PLAN'][0]?.Plan)
              const onDeliveries = nodes.filter((n) => n['Relation Name'] === 'deliveries' && String(n['Node Type']).endsWith('Scan'))
              assert.ok(onDeliveries.length > 0)
              assert.deepEqual(onDeliveries.filter((n) => !String(n['Node Type']).startsWith('Index')), [], `statistics ${statistics}: no sequential or bitmap scan of deliveries`)
              const read = onDeliveries.reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0)
              assert.ok(read < 1_000, `statistics ${statistics}: the claim read ${read} delivery rows; the excluded webhook has ${BACKLOG}`)
              // Rows an index scan steps over inside the index are in no count above: each scan of
              // the queue's indexes reads a few pages per row it returns, none walks a lane past
              // its due rows (a lane read by `webhook_id >= x AND webhook_id <= x` walked the later
              // lane to its end).
              const walked = onDeliveries
                .filter((n) => n['Index Name'] === 'deliveries_lane' || n['Index Name'] === 'deliveries_due')
                .filter((n) => (n['Shared Hit Blocks'] ?? 0) + (n['Shared Read Blocks'] ?? 0) > 20 * (n['Actual Loops'] ?? 1) + 8 * (n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 1))
                .map((n) => `${n['Index Name'] ?? n['Node Type'] ?? ''}: ${(n['Shared Hit Blocks'] ?? 0) + (n['Shared Read Blocks'] ?? 0)} pages for ${n['Actual Rows'] ?? 0} rows × ${n['Actual Loops'] ?? 1}`)
              assert.deepEqual(walked, [], `statistics ${statistics}: no scan walks past the rows it returns`)
              // The candidates are locked by primary key, never by a walk compared against them.
              const compared = nodes.reduce((sum, n) => sum + (n['Rows Removed by Join Filter'] ?? 0), 0)
              assert.ok(compared < 10_000, `statistics ${statistics}: the claim compared ${compared} rows in joins`)
              assert.ok(nodes.some((n) => n['Index Name'] === 'deliveries_pkey' && n['Node Type'] === 'Index Scan'), `statistics ${statistics}: the pick goes by primary key`)
              if (statistics === 'analyzed') assert.ok(onDeliveries.some((n) => n['Index Name'] === 'deliveries_lane'), 'lanes come from deliveries_lane')
            }
          } finally {
            await client.end()
          }
        }
      } finally {
        await cleanup()
      }
    })

    test('the engine delivers a healthy webhook while a hanging one with a large backlog is left out of claims', async (t) => {
      const { store, target, cleanup } = await open()
      const hanging = await startReceiver({ respond: [{ status: 200, hang: 'no-response' }] })
      const live = await startReceiver({ respond: [200] })
      const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
      const engine = createEngine({ idlePollMs: 600_000 }, { store, sender })
      try {
        const { healthy } = await withDeadBacklog(store, target, hanging.url, 60_000)
        await store.updateWebhook(healthy.workspaceId, healthy.id, { url: live.url }, new Date())
        // Recorded before the engine starts, so no new event wakes it: it must find them itself
        // after filling the hanging webhook's share (and the idle poll is far beyond the deadline).
        for (let i = 0; i < 300; i++) await store.recordEvent(eventFor([healthy], { dueAt: new Date(Date.now() - 60_000) }))
        engine.start()
        const started = Date.now()
        // Before the hanging requests time out (60 s): the healthy ones did not wait for them.
        await live.waitForRequests(300, 50_000)
        t.diagnostic(`300 healthy deliveries in ${Date.now() - started} ms beside the hanging backlog`)
        await hanging.waitForRequests(64, 60_000)
        assert.ok(hanging.requests.length <= 64, `${hanging.requests.length} requests to the hanging endpoint; 64 slots per webhook`)
        // Every healthy delivery settles (group commit); the backlog stays pending.
        await waitFor('the healthy deliveries to settle', async () => (await store.queueStats(new Date(), new Date(0))).pending === BACKLOG)
        // What is left held is the hanging webhook's share: its cap (2 × 64 + 128) and at most
        // one batch claimed just before reaching it, never more of its backlog.
        await waitFor('the healthy deliveries to be let go', () => engine.held() <= 2 * 64 + 128 + 128)
        assert.ok(engine.held() >= 64, `the engine holds ${engine.held()}`)
      } finally {
        // The hanging requests end when their server goes; the sender's close waits for them.
        await hanging.close()
        await engine.stop(500)
        await sender.close()
        await live.close()
        await cleanup()
      }
    })
  })
}

