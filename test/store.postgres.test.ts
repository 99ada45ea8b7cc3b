/**
 * PostgreSQL driver against a real server. The driver-neutral semantics live in the contract
 * suite; these tests cover what only a shared database has: fencing across processes, concurrent
 * claimers, concurrent migrations and LISTEN/NOTIFY between store instances.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { MIGRATIONS } from '../src/store/postgres/migrations/index.js'
import { ENGINE_SESSION_SETTINGS, clientConfig, resolvePostgresOptions } from '../src/store/postgres/pool.js'
import type { AttemptResult, Store } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { TEST_DATABASE_URL, dropSchema, makePostgresStore, randomSchemaName } from './helpers/postgres.js'
import { storeContract } from './contract/store.contract.js'
import { privacyContract } from './contract/store-privacy.contract.js'
import { callOf, webhookInput } from './contract/store-fixtures.js'
import { waitFor } from './helpers/wait-for.js'

const T0 = new Date('2026-01-01T00:00:00.000Z')
const at = (ms: number): Date => new Date(T0.getTime() + ms)

async function seed (store: Store): Promise<{ workspaceId: string, webhookId: string }> {
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'test', createdAt: T0 })
  const webhook = await store.createWebhook(webhookInput(workspaceId), T0)
  return { workspaceId, webhookId: webhook.id }
}

/** Records `count` events with one delivery each to `webhookId`; returns the delivery ids. */
async function addDeliveries (store: Store, workspaceId: string, webhookId: string, count: number, due = T0): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const id = newId('dlv')
    ids.push(id)
    const eventId = newId('evt')
    await store.recordEvent({
      event: { id: eventId, workspaceId, type: 'call.ended', body: `{"event_id":"${eventId}"}`, createdAt: due },
      deliveries: [{ id, webhookId, url: 'https://example.com/hook', maxAttempts: 4, nextAttemptAt: due }],
    })
  }
  return ids
}

/** Many deliveries fast: one event per 500, inserted in a few statements. */
async function addManyDeliveries (store: Store, workspaceId: string, webhookId: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += 500) {
    const eventId = newId('evt')
    const n = Math.min(500, count - done)
    await store.recordEvent({
      event: { id: eventId, workspaceId, type: 'call.ended', body: '{}', createdAt: T0 },
      deliveries: Array.from({ length: n }, () => ({
        id: newId('dlv'), webhookId, url: 'https://example.com/hook', maxAttempts: 4, nextAttemptAt: T0,
      })),
    })
  }
}

function success (deliveryId: string, leaseToken: string, attempt = 1): AttemptResult {
  return {
    deliveryId,
    leaseToken,
    attempt: { attempt, startedAt: at(1_000), durationMs: 12, statusCode: 200, error: null, responseExcerpt: 'ok' },
    settlement: { status: 'succeeded' },
  }
}

test('postgres: connections run without JIT; the engine\'s commit asynchronously and scan by index only', async () => {
  const options = resolvePostgresOptions({ connectionString: TEST_DATABASE_URL })
  for (const [settings, expected] of [
    [{}, { jit: 'off' }],
    [ENGINE_SESSION_SETTINGS, { jit: 'off', synchronous_commit: 'off', enable_bitmapscan: 'off', enable_seqscan: 'off' }],
  ] as const) {
    const client = new pg.Client(clientConfig(options, settings))
    await client.connect()
    try {
      const shown: Record<string, string> = {}
      for (const name of Object.keys(expected)) shown[name] = (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name] ?? ''
      assert.deepEqual(shown, expected)
    } finally {
      await client.end()
    }
  }
})

describe('postgres store', () => {
  let store: Store
  let cleanup: () => Promise<void>

  before(async () => {
    ({ store, cleanup } = await makePostgresStore())
  })
  after(async () => { await cleanup() })

  test('keeps the event body byte for byte and reads times back as Dates', async () => {
    const { workspaceId, webhookId } = await seed(store)
    const eventId = newId('evt')
    const body = '{"event":"call.ended","data":{"note":"héllo ✓ \\u0000 \\"q\\"","n":1.50}}'
    const result = await store.recordEvent({
      event: { id: eventId, workspaceId, type: 'call.ended', body, createdAt: at(5) },
      deliveries: [{ id: newId('dlv'), webhookId, url: 'https://example.com/a', maxAttempts: 4, nextAttemptAt: at(5) }],
    })
    assert.deepEqual(result, { created: true, eventId, deliveries: 1 })
    const stored = await store.getEvent(workspaceId, eventId)
    assert.equal(stored?.body, body)
    assert.equal(stored?.createdAt.getTime(), at(5).getTime())
  })

  test('recordEvent is idempotent by (workspace, event id) and remembers the call persona', async () => {
    const { workspaceId, webhookId } = await seed(store)
    const eventId = newId('evt')
    const input = {
      event: { id: eventId, workspaceId, type: 'call.started', body: '{}', createdAt: T0 },
      deliveries: [
        { id: newId('dlv'), webhookId, url: 'https://example.com/a', maxAttempts: 4, nextAttemptAt: T0 },
        { id: newId('dlv'), webhookId, url: 'https://example.com/b', maxAttempts: 4, nextAttemptAt: T0 },
      ],
      call: { jobId: 'job_1', personaId: 'persona_1' },
    }
    assert.deepEqual(await store.recordEvent(input), { created: true, eventId, deliveries: 2 })
    const again = await store.recordEvent({
      ...input,
      deliveries: [{ id: newId('dlv'), webhookId, url: 'https://example.com/c', maxAttempts: 4, nextAttemptAt: T0 }],
    })
    assert.deepEqual(again, { created: false, eventId, deliveries: 2 })
    const page = await store.listDeliveries({ workspaceId, eventId, limit: 10 })
    assert.equal(page.data.length, 2)
    const call = await callOf(store, workspaceId, 'job_1')
    assert.equal(call?.personaId, 'persona_1')
    assert.equal(call?.hasInlineWebhooks, false)
  })

  test('fencing: a worker whose lease expired and was re-claimed can neither renew nor settle', async () => {
    const { workspaceId, webhookId } = await seed(store)
    const [deliveryId] = await addDeliveries(store, workspaceId, webhookId, 1)
    assert.ok(deliveryId !== undefined)
    // Times are passed in, so the lease's life does not depend on how fast this machine is.
    const t0 = Date.now()
    const first = await store.claimDue({ now: new Date(t0), limit: 10, leaseMs: 50, owner: 'a', excludeWebhookIds: [] })
    const mine = first.find((c) => c.deliveryId === deliveryId)
    assert.ok(mine, 'first worker claims the delivery')
    assert.equal(mine.attempt, 1)
    assert.equal(mine.webhook?.id, webhookId)
    // While the lease lives, nobody else gets it.
    assert.equal((await store.claimDue({ now: new Date(t0 + 40), limit: 10, leaseMs: 50, owner: 'b' })).length, 0)
    const second = await store.claimDue({ now: new Date(t0 + 80), limit: 10, leaseMs: 60_000, owner: 'b' })
    const theirs = second.find((c) => c.deliveryId === deliveryId)
    assert.ok(theirs, 'the expired lease is claimed again')
    assert.notEqual(theirs.leaseToken, mine.leaseToken)

    assert.deepEqual(await store.renewLeases([{ deliveryId, leaseToken: mine.leaseToken }], 60_000, new Date()), [])
    const late = await store.completeAttempts([success(deliveryId, mine.leaseToken)], new Date())
    assert.deepEqual(late.rejected, [deliveryId])
    assert.equal((await store.listAttempts(deliveryId)).length, 0, 'the rejected attempt is not written')
    assert.equal((await store.getDelivery(workspaceId, deliveryId))?.status, 'pending')

    assert.deepEqual(await store.renewLeases([{ deliveryId, leaseToken: theirs.leaseToken }], 60_000, new Date()), [deliveryId])
    const done = await store.completeAttempts([success(deliveryId, theirs.leaseToken)], new Date())
    assert.deepEqual(done.rejected, [])
    const delivery = await store.getDelivery(workspaceId, deliveryId)
    assert.equal(delivery?.status, 'succeeded')
    assert.equal(delivery?.attemptCount, 1)
    assert.equal(delivery?.nextAttemptAt, null)
    assert.equal((await store.listAttempts(deliveryId)).length, 1)
  })

  test('completeAttempts settles a batch in one go: retry later, fail, succeed', async () => {
    const { workspaceId, webhookId } = await seed(store)
    const ids = await addDeliveries(store, workspaceId, webhookId, 3, at(-1_000))
    const claimed = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'w' })
    const byId = new Map(claimed.map((c) => [c.deliveryId, c]))
    const [a, b, c] = ids.map((id) => byId.get(id))
    assert.ok(a && b && c)
    const retryAt = at(500)
    const { rejected } = await store.completeAttempts([
      { ...success(a.deliveryId, a.leaseToken), settlement: { status: 'pending', nextAttemptAt: retryAt } },
      {
        deliveryId: b.deliveryId,
        leaseToken: b.leaseToken,
        attempt: { attempt: 1, startedAt: T0, durationMs: 5, statusCode: 404, error: 'HTTP 404', responseExcerpt: 'nope' },
        settlement: { status: 'failed' },
      },
      success(c.deliveryId, c.leaseToken),
      success(c.deliveryId, c.leaseToken),
    ], T0)
    assert.deepEqual(rejected, [c.deliveryId], 'a second result for the same lease is rejected')
    const da = await store.getDelivery(workspaceId, a.deliveryId)
    assert.equal(da?.status, 'pending')
    assert.equal(da?.nextAttemptAt?.getTime(), retryAt.getTime())
    const db = await store.getDelivery(workspaceId, b.deliveryId)
    assert.equal(db?.status, 'failed')
    assert.equal(db?.lastStatusCode, 404)
    // Not due before its retry time, due after; the attempt number goes up.
    assert.equal((await store.claimDue({ now: at(499), limit: 10, leaseMs: 1_000, owner: 'w' })).length, 0)
    const again = await store.claimDue({ now: at(500), limit: 10, leaseMs: 1_000, owner: 'w' })
    assert.deepEqual(again.map((x) => [x.deliveryId, x.attempt]), [[a.deliveryId, 2]])
    const attempts = await store.listAttempts(b.deliveryId)
    assert.deepEqual(attempts.map((x) => [x.attempt, x.statusCode, x.responseExcerpt]), [[1, 404, 'nope']])
    const stats = (await store.webhookStats(workspaceId, [webhookId])).get(webhookId)
    assert.deepEqual(stats && { ...stats, lastDeliveryAt: stats.lastDeliveryAt?.getTime() }, {
      totalDeliveries: 3, failedDeliveries: 1, succeededDeliveries: 1, lastDeliveryAt: at(1_000).getTime(), lastError: 'HTTP 404', parkedDeliveries: 0,
    })
  })

  test('claimDue skips excluded webhooks; releaseLeases makes deliveries due again at once', async () => {
    const { workspaceId, webhookId } = await seed(store)
    const other = await store.createWebhook(webhookInput(workspaceId), T0)
    const [mine] = await addDeliveries(store, workspaceId, webhookId, 1, at(-2_000))
    const [theirs] = await addDeliveries(store, workspaceId, other.id, 1, at(-2_000))
    const claimed = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'w', excludeWebhookIds: [webhookId] })
    assert.deepEqual(claimed.map((c) => c.deliveryId), [theirs])
    const first = claimed[0]
    assert.ok(first)
    await store.releaseLeases([{ deliveryId: first.deliveryId, leaseToken: first.leaseToken }])
    const again = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'w' })
    assert.deepEqual(new Set(again.map((c) => c.deliveryId)), new Set([mine, theirs]))
  })

  test('deleteWebhook ends pending deliveries as failed and claims see the webhook as null', async () => {
    const { workspaceId, webhookId } = await seed(store)
    const [leased, waiting] = await addDeliveries(store, workspaceId, webhookId, 2, at(-3_000))
    assert.ok(leased && waiting)
    const claimed = await store.claimDue({ now: at(-2_500), limit: 1, leaseMs: 60_000, owner: 'w' })
    assert.equal(claimed[0]?.deliveryId, leased)
    assert.equal(await store.deleteWebhook(workspaceId, webhookId, T0), true)
    assert.equal(await store.deleteWebhook(workspaceId, webhookId, T0), false)
    for (const id of [leased, waiting]) {
      const d = await store.getDelivery(workspaceId, id)
      assert.equal(d?.status, 'failed')
      assert.equal(d?.lastError, 'webhook deleted')
    }
    const lease = claimed[0]
    assert.ok(lease)
    assert.deepEqual((await store.completeAttempts([success(lease.deliveryId, lease.leaseToken)], T0)).rejected, [leased])
    // A retried delivery of a deleted webhook is claimed with webhook null.
    await store.retryDelivery(workspaceId, waiting, T0)
    const retried = await store.claimDue({ now: T0, limit: 10, leaseMs: 1_000, owner: 'w' })
    const mine = retried.find((c) => c.deliveryId === waiting)
    assert.ok(mine)
    assert.equal(mine.webhook, null)
    assert.equal(mine.attempt, 1)
  })

  test('listDeliveries pages newest first with opaque cursors', async () => {
    const { workspaceId, webhookId } = await seed(store)
    const ids = await addDeliveries(store, workspaceId, webhookId, 5)
    const seen: string[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await store.listDeliveries({ workspaceId, webhookId, limit: 2, ...(cursor ? { cursor } : {}) })
      seen.push(...page.data.map((d) => d.id))
      if (page.nextCursor === null) break
      assert.ok(!page.nextCursor.includes('dlv_'), 'the cursor does not show the id')
      cursor = page.nextCursor
    }
    assert.deepEqual(seen, [...ids].reverse())
    await assert.rejects(store.listDeliveries({ workspaceId, limit: 2, cursor: 'bogus' }), { code: 'VALIDATION' })
    const otherWorkspace = await store.listDeliveries({ workspaceId: newId('ws'), limit: 10 })
    assert.deepEqual(otherWorkspace, { data: [], nextCursor: null })
  })

  test('queueStats and nextDueAt describe the queue', async () => {
    const { store: own, cleanup: done } = await makePostgresStore({ poolSize: 2 })
    try {
      assert.equal(await own.nextDueAt(), null)
      const { workspaceId, webhookId } = await seed(own)
      await addDeliveries(own, workspaceId, webhookId, 2, at(-400))
      await addDeliveries(own, workspaceId, webhookId, 1, at(1_000))
      assert.equal((await own.nextDueAt())?.getTime(), at(-400).getTime())
      assert.deepEqual(await own.queueStats(T0, at(-10_000)), { pending: 3, due: 2, oldestDueAgeMs: 400, failedSince: 0 })
      assert.equal(await own.ping(), true)
    } finally {
      await done()
    }
  })
})

describe('postgres store, per-call ordering', () => {
  test('enable replays parked deliveries of 20,000 calls at once: one lock for the webhook\'s queues, not one per call', async () => {
    // One advisory lock per call would outgrow PostgreSQL's lock table (max_locks_per_transaction
    // 64 × 100 connections by default; about 12,000 here) and fail the enable with "out of shared
    // memory". And releasing 20,000 queues at once must stay linear: a plan that read every
    // waiting delivery once per queue takes minutes.
    const { store: own, schema, cleanup: done } = await makePostgresStore({ poolSize: 2 })
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
    await client.connect()
    try {
      const { workspaceId, webhookId } = await seed(own)
      await own.disableWebhook(workspaceId, webhookId, 'manual', at(1))
      // Parked as recordEvent parks them (the contract suite checks that), written in one go:
      // one event of each of 20,000 calls, and a second one of the first 50 calls.
      const calls = 20_000
      await client.query(`INSERT INTO events (workspace_id, id, type, body, created_at)
        SELECT $1, 'evt_' || i, 'call.ended', '{}', $2 FROM generate_series(1, $3 + 50) AS i`, [workspaceId, at(2).getTime(), calls])
      await client.query(`INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
          max_attempts, next_attempt_at, created_at, updated_at, order_key, order_seq)
        SELECT 'dlv_' || i, $1, 'evt_' || i, 'call.ended', $2, false, 'https://example.com/hook', 'parked', 4, NULL, $3, $3,
          'job_' || CASE WHEN i <= $4 THEN i ELSE i - $4 END, CASE WHEN i <= $4 THEN 1 ELSE 2 END
        FROM generate_series(1, $4 + 50) AS i`, [workspaceId, webhookId, at(2).getTime(), calls])
      assert.equal((await own.enableWebhook(workspaceId, webhookId, true, at(10)))?.enabled, true)
      const claimed = await own.claimDue({ now: at(10), limit: 2 * calls, leaseMs: 60_000, owner: 'test' })
      assert.equal(claimed.length, calls, 'the first of each call, and only it')
      assert.ok(claimed.every((c) => Number(c.deliveryId.slice(4)) <= calls))
    } finally {
      await client.end()
      await done()
    }
  })
})

describe('postgres store across processes', () => {
  test('two store instances (two pools) claiming 2,000 deliveries at once never share one', async () => {
    const schema = randomSchemaName()
    const a = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 })
    const b = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 })
    try {
      const { workspaceId, webhookId } = await seed(a)
      await addManyDeliveries(a, workspaceId, webhookId, 2_000)
      const claimedBy = new Map<string, string>()
      const duplicates: string[] = []
      async function worker (store: Store, name: string): Promise<void> {
        for (;;) {
          const batch = await store.claimDue({ now: new Date(), limit: 25, leaseMs: 600_000, owner: name })
          if (batch.length === 0) return
          for (const c of batch) {
            if (claimedBy.has(c.deliveryId)) duplicates.push(c.deliveryId)
            claimedBy.set(c.deliveryId, name)
          }
        }
      }
      await Promise.all([worker(a, 'a1'), worker(a, 'a2'), worker(b, 'b1'), worker(b, 'b2')])
      assert.deepEqual(duplicates, [])
      assert.equal(claimedBy.size, 2_000)
      const owners = new Set(claimedBy.values())
      assert.ok(owners.has('a1') || owners.has('a2'))
      assert.ok(owners.has('b1') || owners.has('b2'), 'both instances got work')
    } finally {
      await a.close()
      await b.close()
      await dropSchema(schema)
    }
  })

  test('three instances starting at once apply the migrations once, without error', async () => {
    const schema = randomSchemaName()
    const stores = await Promise.all([1, 2, 3].map(async () =>
      await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 })))
    try {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
      await client.connect()
      try {
        const rows = await client.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)
        assert.deepEqual(rows.rows.map((r: { version: number }) => r.version), MIGRATIONS.map((m) => m.version))
      } finally {
        await client.end()
      }
      for (const store of stores) assert.equal(await store.ping(), true)
    } finally {
      await Promise.all(stores.map(async (s) => await s.close()))
      await dropSchema(schema)
    }
  })

  test('LISTEN/NOTIFY: recording an event wakes another instance; other schemas stay asleep', async () => {
    const schema = randomSchemaName()
    const a = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 })
    const b = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 })
    const elsewhere = await makePostgresStore({ poolSize: 1 })
    try {
      let strayWakes = 0
      elsewhere.store.onWork(() => { strayWakes++ })
      const { workspaceId, webhookId } = await seed(a)
      const woke = new Promise<void>((resolve) => {
        const stop = b.onWork(() => {
          stop()
          resolve()
        })
      })
      await addDeliveries(a, workspaceId, webhookId, 1)
      let woken = false
      void woke.then(() => { woken = true })
      await waitFor('store b to be woken', () => woken)
      let retried = false
      b.onWork(() => { retried = true })
      const [id] = (await a.listDeliveries({ workspaceId, limit: 1 })).data.map((d) => d.id)
      assert.ok(id)
      await a.retryDelivery(workspaceId, id, new Date())
      await waitFor('retryDelivery to wake the other instance too', () => retried)
      assert.equal(strayWakes, 0)
    } finally {
      await a.close()
      await b.close()
      await elsewhere.cleanup()
      await dropSchema(schema)
    }
  })

  test('the listener reconnects after its connection is killed', async () => {
    const schema = randomSchemaName()
    const a = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 })
    const b = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 })
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await admin.connect()
    try {
      let wakes = 0
      b.onWork(() => { wakes++ })
      // Kill the listening sessions of this schema (both instances'), as a network cut would.
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1`, [`kejue-webhooks listener ${schema}`])
      assert.equal(killed.rowCount, 2)
      // Wait for the reconnect (it wakes the listeners once, to cover notifications missed meanwhile).
      await waitFor('the reconnect to wake the listeners', () => wakes >= 1)
      const before = wakes
      const { workspaceId, webhookId } = await seed(a)
      await addDeliveries(a, workspaceId, webhookId, 1)
      await waitFor('notifications to arrive again after the reconnect', () => wakes > before)
    } finally {
      await admin.end()
      await a.close()
      await b.close()
      await dropSchema(schema)
    }
  })
})

async function makePostgres (): Promise<{ store: Store, cleanup: () => Promise<void> }> {
  const { store, cleanup } = await makePostgresStore({ poolSize: 4 })
  return { store, cleanup }
}
storeContract('postgres', makePostgres)
privacyContract('postgres', makePostgres)
