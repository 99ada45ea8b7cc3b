import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { test } from 'node:test'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import type { Store } from '../src/store/store.js'
import { eventFor, seed } from './contract/store-fixtures.js'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { makePostgresStore, TEST_DATABASE_URL } from './helpers/postgres.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'
import { ServiceError } from '../src/errors.js'

interface Opened { store: Store, reopen: () => Promise<Store>, cleanup: () => Promise<void> }

/** A store of each kind with a commit gather (KEJUE_COMMIT_GATHER_MS), how to open its data again, and drop it. */
const STORES: Array<{ name: string, open: (commitGatherMs: number) => Promise<Opened> }> = [
  {
    name: 'sqlite',
    async open (commitGatherMs) {
      const dir = mkdtempSync(join(tmpdir(), 'kejue-gather-'))
      const path = join(dir, 'webhooks.db')
      const store = await createSqliteStore({ path, commitGatherMs })
      return {
        store,
        reopen: async () => await createSqliteStore({ path }),
        cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) },
      }
    },
  },
  {
    name: 'postgres',
    async open (commitGatherMs) {
      const { store, schema, cleanup } = await makePostgresStore({ commitGatherMs })
      return { store, cleanup, reopen: async () => await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema }) }
    },
  },
]

for (const kind of STORES) {
  test(`${kind.name}: with a gather, events of several turns, a repeated id among them, each get their own answer`, async () => {
    // A long gather, so that the calls below surely share a batch, even on a loaded machine.
    const { store, cleanup } = await kind.open(50)
    try {
      const { ws, webhooks } = await seed(store)
      // A first batch of two (a batch of one is not followed by a gather).
      const first = eventFor(webhooks)
      const second = eventFor(webhooks)
      assert.deepEqual((await Promise.all([store.recordEvent(first), store.recordEvent(second)])).map((r) => r.created), [true, true])

      // Within the gather after that commit: three turns' calls, one of them the repeat of
      // another's event id (a producer's retry), which must find the first, not fail or duplicate.
      const b = eventFor(webhooks)
      const c = eventFor(webhooks)
      const repeat = { ...eventFor(webhooks), event: b.event }
      const calls = [store.recordEvent(b)]
      await nextTurn()
      calls.push(store.recordEvent(c))
      await nextTurn()
      calls.push(store.recordEvent(repeat))
      const [rb, rc, rRepeat] = await Promise.all(calls)
      assert.deepEqual(rb, { created: true, eventId: b.event.id, deliveries: 1 })
      assert.deepEqual(rc, { created: true, eventId: c.event.id, deliveries: 1 })
      assert.deepEqual(rRepeat, { created: false, eventId: b.event.id, deliveries: 1 })

      for (const input of [first, second, b, c]) assert.notEqual(await store.getEvent(ws.id, input.event.id), null)
      const listed = await store.listDeliveries({ workspaceId: ws.id, limit: 10 })
      assert.equal(listed.data.length, 4, 'one delivery per event; the repeat added none')
    } finally {
      await cleanup()
    }
  })
}

for (const kind of STORES) {
  test(`${kind.name}: closing the store writes the events still gathering, and answers them`, async () => {
    const { store, reopen, cleanup } = await kind.open(2_000)
    try {
      const { ws, webhooks } = await seed(store)
      await Promise.all([store.recordEvent(eventFor(webhooks)), store.recordEvent(eventFor(webhooks))])
      // Within the 2 s gather after that commit: this one waits; close must not strand it.
      const waiting = eventFor(webhooks)
      const answer = store.recordEvent(waiting)
      await nextTurn()
      await store.close()
      assert.deepEqual(await answer, { created: true, eventId: waiting.event.id, deliveries: 1 })
      const again = await reopen()
      try {
        assert.notEqual(await again.getEvent(ws.id, waiting.event.id), null)
      } finally {
        await again.close()
      }
    } finally {
      await cleanup()
    }
  })
}

test('postgres: a store closed while the database is cut off answers the call still gathering with 503, and closes', { timeout: 120_000 }, async () => {
  // The store reaches the database through a TCP proxy that the test cuts: open connections are
  // dropped and new ones are accepted but never answered (a host that went away).
  const url = new URL(TEST_DATABASE_URL)
  const proxy = await startTcpProxy(url.hostname, Number(url.port === '' ? 5432 : url.port))
  const { schema, cleanup } = await makePostgresStore()
  try {
    const viaProxy = new URL(TEST_DATABASE_URL)
    viaProxy.host = `127.0.0.1:${proxy.port}`
    const store = await createPostgresStore({ connectionString: viaProxy.toString(), schema, commitGatherMs: 2_000 })
    const { webhooks } = await seed(store)
    await Promise.all([store.recordEvent(eventFor(webhooks)), store.recordEvent(eventFor(webhooks))])
    proxy.cut()
    const answer = store.recordEvent(eventFor(webhooks)).then(() => null, (error: unknown) => error)
    await nextTurn()
    await store.close()
    const error = await answer
    assert.ok(error instanceof ServiceError, `a ServiceError, not ${String(error)}`)
    assert.equal(error.code, 'STORE_UNAVAILABLE')
  } finally {
    await proxy.close()
    await cleanup()
  }
})
