/**
 * Micro-benchmark of the PostgreSQL queue path: claimDue + completeAttempts, the two statements
 * every delivery costs the database. No HTTP: this is the store's ceiling, not the service's.
 *
 *   node --import tsx bench/store-postgres.ts [deliveries] [workers]
 *
 * KEJUE_BENCH_DATABASE_URL (or KEJUE_TEST_DATABASE_URL) picks the server; each run uses a
 * throw-away schema.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createPostgresStore } from '../src/store/postgres/index.js'
import type { Store } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'

const DATABASE_URL = process.env.KEJUE_BENCH_DATABASE_URL ?? process.env.KEJUE_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test'
const DELIVERIES = Number(process.argv[2] ?? 20_000)
const WORKERS = Number(process.argv[3] ?? 4)
const BATCH_SIZES = [1, 10, 100]

async function fill (store: Store, count: number): Promise<void> {
  const workspaceId = newId('ws')
  const now = new Date(Date.now() - 1_000)
  await store.createWorkspace({ id: workspaceId, name: 'bench', createdAt: now })
  const webhook = await store.createWebhook({
    id: newId('wh'), workspaceId, url: 'https://example.com/hook', events: ['*'], name: null,
    signingMethod: 'hmac_sha256', secret: 'whsec_bench', scopeType: 'global', personaId: null, enabled: true,
    jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500,
  }, now)
  // A realistic envelope size (~600 bytes); 100 deliveries per event keeps the fill quick.
  const body = JSON.stringify({ event: 'call.ended', data: { pad: 'x'.repeat(500) } })
  for (let done = 0; done < count; done += 100) {
    await store.recordEvent({
      event: { id: newId('evt'), workspaceId, type: 'call.ended', body, createdAt: now },
      deliveries: Array.from({ length: Math.min(100, count - done) }, () => ({
        id: newId('dlv'), webhookId: webhook.id, url: webhook.url, maxAttempts: 4, nextAttemptAt: now,
      })),
    })
  }
}

async function drain (store: Store, batchSize: number, worker: string): Promise<number> {
  let claimed = 0
  for (;;) {
    const now = new Date()
    const batch = await store.claimDue({ now, limit: batchSize, leaseMs: 60_000, owner: worker })
    if (batch.length === 0) return claimed
    claimed += batch.length
    await store.completeAttempts(batch.map((c) => ({
      deliveryId: c.deliveryId,
      leaseToken: c.leaseToken,
      attempt: { attempt: c.attempt, startedAt: now, durationMs: 3, statusCode: 200, error: null, responseExcerpt: 'ok' },
      settlement: { status: 'succeeded' as const },
    })), new Date())
  }
}

async function run (batchSize: number): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolSize: WORKERS + 1 })
  try {
    await fill(store, DELIVERIES)
    const started = process.hrtime.bigint()
    const counts = await Promise.all(Array.from({ length: WORKERS }, async (_, i) => await drain(store, batchSize, `w${i}`)))
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const total = counts.reduce((a, b) => a + b, 0)
    console.log(`batch ${String(batchSize).padStart(3)}: ${total} deliveries claimed+completed in ${seconds.toFixed(2)} s` +
      ` = ${Math.round(total / seconds)} claims/s (${WORKERS} workers)`)
  } finally {
    await store.close()
    const admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}

for (const size of BATCH_SIZES) await run(size)
