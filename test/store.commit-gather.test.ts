import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { test } from 'node:test'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import type { Store } from '../src/store/store.js'
import { eventFor, seed } from './contract/store-fixtures.js'
import { makePostgresStore } from './helpers/postgres.js'

/** A store of each kind with a commit gather (KEJUE_COMMIT_GATHER_MS), and how to drop it. */
const STORES: Array<{ name: string, open: (commitGatherMs: number) => Promise<{ store: Store, cleanup: () => Promise<void> }> }> = [
  {
    name: 'sqlite',
    async open (commitGatherMs) {
      const dir = mkdtempSync(join(tmpdir(), 'kejue-gather-'))
      const store = await createSqliteStore({ path: join(dir, 'webhooks.db'), commitGatherMs })
      return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) } }
    },
  },
  { name: 'postgres', open: async (commitGatherMs) => await makePostgresStore({ commitGatherMs }) },
]

for (const kind of STORES) {
  test(`${kind.name}: events gathered from several turns into one batch each get their own answer`, async () => {
    // A long gather, so that the calls below surely share a batch, even on a loaded machine.
    const { store, cleanup } = await kind.open(50)
    try {
      const { ws, webhooks } = await seed(store)
      const first = eventFor(webhooks)
      assert.equal((await store.recordEvent(first)).created, true)

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

      for (const input of [first, b, c]) assert.notEqual(await store.getEvent(ws.id, input.event.id), null)
      const listed = await store.listDeliveries({ workspaceId: ws.id, limit: 10 })
      assert.equal(listed.data.length, 3, 'one delivery per event; the repeat added none')
    } finally {
      await cleanup()
    }
  })
}
