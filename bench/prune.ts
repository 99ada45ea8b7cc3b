/**
 * Retention at scale (docs/storage.md, "Retention"), not a test: fills a store with N settled
 * deliveries (one attempt and one event each, all past the window) plus a live queue, then runs
 * the retention loop while a claim → complete stream goes on beside it, and reports how fast rows
 * go and how long the queue's store calls took meanwhile.
 * Usage: node --import tsx bench/prune.ts [rows=1000000] [sqlite|postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { createRetention } from '../src/delivery/retention.js'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import type { Store, Webhook } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { TEST_DATABASE_URL, dropSchema, randomSchemaName } from '../test/helpers/postgres.js'

const ROWS = Number(process.argv[2] ?? 1_000_000)
const DRIVER = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite'
const DAY_MS = 86_400_000
const OLD = Date.now() - 40 * DAY_MS
const BODY = JSON.stringify({ event: 'call.ended', data: { job_id: 'job_1', transcript: 'x'.repeat(600) }, metadata: {} })

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

async function seed (store: Store): Promise<{ workspaceId: string, webhook: Webhook }> {
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'bench', createdAt: new Date() })
  const webhook = await store.createWebhook({
    id: newId('wh'), workspaceId, url: 'https://example.com/hook', events: ['*'], name: null,
    signingMethod: 'hmac_sha256', secret: 'whsec_bench', scopeType: 'global', personaId: null, enabled: true,
    jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500,
  }, new Date())
  return { workspaceId, webhook }
}

/** ROWS old settled deliveries, written straight into the tables (the store API would take hours). */
async function fillSqlite (path: string, workspaceId: string, webhookId: string): Promise<void> {
  const db = new Database(path)
  const event = db.prepare('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES (?, ?, ?, ?, ?)')
  const delivery = db.prepare(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, url, status,
    attempt_count, max_attempts, created_at, updated_at) VALUES (?, ?, ?, 'call.ended', ?, 'https://example.com/hook', 'succeeded', 1, 4, ?, ?)`)
  const attempt = db.prepare('INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_excerpt) VALUES (?, ?, 1, ?, 12, 200, ?)')
  const chunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const t = OLD + i
      const eventId = `evt_${i}`
      const deliveryId = `dlv_${String(i).padStart(10, '0')}`
      event.run(workspaceId, eventId, 'call.ended', BODY, t)
      delivery.run(deliveryId, workspaceId, eventId, webhookId, t, t)
      attempt.run(`att_${i}`, deliveryId, t, 'ok')
    }
  })
  for (let i = 0; i < ROWS; i += 50_000) chunk(i, Math.min(ROWS, i + 50_000))
  db.close()
}

async function fillPostgres (schema: string, workspaceId: string, webhookId: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  await client.query(`SET search_path = ${schema}`)
  await client.query(`INSERT INTO events (workspace_id, id, type, body, created_at)
    SELECT $1, 'evt_' || i, 'call.ended', $4, $2::bigint + i FROM generate_series(0, $3 - 1) AS i`, [workspaceId, OLD, ROWS, BODY])
  await client.query(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status, attempt_count, max_attempts, created_at, updated_at)
    SELECT 'dlv_' || lpad(i::text, 10, '0'), $1, 'evt_' || i, 'call.ended', $2, false, 'https://example.com/hook', 'succeeded', 1, 4, $3::bigint + i, $3::bigint + i
    FROM generate_series(0, $4 - 1) AS i`, [workspaceId, webhookId, OLD, ROWS])
  await client.query(`INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_excerpt)
    SELECT 'att_' || i, 'dlv_' || lpad(i::text, 10, '0'), 1, $1::bigint + i, 12, 200, 'ok' FROM generate_series(0, $2 - 1) AS i`, [OLD, ROWS])
  await client.query('ANALYZE')
  await client.end()
}

const dir = mkdtempSync(join(tmpdir(), 'kejue-prune-'))
const schema = DRIVER === 'postgres' ? randomSchemaName() : null
try {
  let store: Store
  let workspaceId: string
  let webhook: Webhook
  if (DRIVER === 'sqlite') {
    const path = join(dir, 'bench.db')
    store = await createSqliteStore({ path });
    ({ workspaceId, webhook } = await seed(store))
    await store.close()
    await fillSqlite(path, workspaceId, webhook.id)
    store = await createSqliteStore({ path })
  } else {
    store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema: schema ?? undefined });
    ({ workspaceId, webhook } = await seed(store))
    await fillPostgres(schema ?? '', workspaceId, webhook.id)
  }
  console.log(`${DRIVER}: ${ROWS.toLocaleString('en-US')} settled deliveries (with attempts and events) past the window`)

  // The live queue beside it: one event at a time, claimed and completed, as the engine does.
  const latencies: number[] = []
  let live = true
  const stream = (async () => {
    while (live) {
      const started = performance.now()
      await store.recordEvent({ event: { id: newId('evt'), workspaceId, type: 'call.ended', body: BODY, createdAt: new Date() }, deliveries: [{ id: newId('dlv'), webhookId: webhook.id, url: webhook.url, maxAttempts: 4, nextAttemptAt: new Date() }] })
      const [claim] = await store.claimDue({ now: new Date(), limit: 1, leaseMs: 20_000, owner: 'bench' })
      if (claim !== undefined) {
        await store.completeAttempts([{ deliveryId: claim.deliveryId, leaseToken: claim.leaseToken, attempt: { attempt: 1, startedAt: new Date(), durationMs: 1, statusCode: 200, error: null, responseExcerpt: 'ok' }, settlement: { status: 'succeeded' } }], new Date())
      }
      latencies.push(performance.now() - started)
    }
  })()

  const retention = createRetention({ retentionDays: 30 }, { store })
  const started = performance.now()
  const pruned = await retention.runOnce()
  const ms = performance.now() - started
  live = false
  await stream
  console.log(`pruned ${pruned.deliveries.toLocaleString('en-US')} deliveries, ${pruned.attempts.toLocaleString('en-US')} attempts, ${pruned.events.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(1)} s (${Math.round(pruned.deliveries / (ms / 1000)).toLocaleString('en-US')} deliveries/s)`)
  console.log(`meanwhile ${latencies.length.toLocaleString('en-US')} record → claim → complete rounds: p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`)
  await store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
  if (schema !== null) await dropSchema(schema)
}
