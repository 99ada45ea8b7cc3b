/**
 * The routes version (migration 0011) and the routing cache on top of it (src/delivery/route-cache.ts):
 * - SQLite's trigger names every column of `webhooks` but the volatile ones, so a column added
 *   later without a new trigger fails here; PostgreSQL's compares the whole row, so a column added
 *   later moves it by itself;
 * - a process routes from memory while the workspace's webhooks hold still, and a change made by
 *   another process (another connection to the same store) is seen by the next event.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { acceptEvent } from '../src/delivery/accept-event.js'
import { samplePayload } from '../src/events/samples.js'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { ROUTES_VOLATILE_COLUMNS } from '../src/store/routes-version.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { ROUTES_VERSIONED_COLUMNS } from '../src/store/sqlite/migrations/0011-routes-version.js'
import type { Store } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { routesVersionOf, webhookInput } from './contract/store-fixtures.js'
import { dropSchema, randomSchemaName, TEST_DATABASE_URL } from './helpers/postgres.js'

/** `store` with its routeWebhooks calls counted. */
function countingRoutes (store: Store): { store: Store, routeReads: () => number } {
  let reads = 0
  return {
    store: {
      ...store,
      routeWebhooks: async (...args) => {
        reads++
        return await store.routeWebhooks(...args)
      },
    },
    routeReads: () => reads,
  }
}

/** Two connections to one store, as two processes have: the API (`a`) and an admin (`b`). */
async function routesFromMemory (a: Store, b: Store): Promise<void> {
  const workspaceId = newId('ws')
  await b.createWorkspace({ id: workspaceId, name: 'cache', createdAt: new Date() })
  const hook = await b.createWebhook(webhookInput(workspaceId, { events: ['call.started'] }), new Date())
  const api = countingRoutes(a)
  const accept = async (): Promise<string[]> => {
    const data = { ...samplePayload('call.started'), job_id: newId('job') }
    delete data.persona_id
    const accepted = await acceptEvent(api.store, { workspaceId, event: 'call.started', data })
    const ids: string[] = []
    for (const id of accepted.deliveryIds) ids.push((await a.getDelivery(workspaceId, id))?.url ?? '')
    return ids
  }

  assert.deepEqual(await accept(), [hook.url])
  assert.deepEqual(await accept(), [hook.url])
  assert.deepEqual(await accept(), [hook.url])
  assert.equal(api.routeReads(), 1, 'the candidates are read once, then come from memory')

  // Settling (the other process's engine) leaves the cache alone.
  await b.recordEvent({ event: { id: newId('evt'), workspaceId, type: 'call.started', body: '{}', createdAt: new Date() }, deliveries: [] })
  await b.updateWebhook(workspaceId, hook.id, { url: 'https://example.org/moved' }, new Date())
  assert.deepEqual(await accept(), ['https://example.org/moved'], 'a change made elsewhere is seen by the next event')
  assert.equal(api.routeReads(), 2)
  await b.updateWebhook(workspaceId, hook.id, { events: ['call.ended'] }, new Date())
  assert.deepEqual(await accept(), [], 'unsubscribed')
  const second = await b.createWebhook(webhookInput(workspaceId, { events: ['*'] }), new Date())
  assert.deepEqual(await accept(), [second.url])
  assert.deepEqual(await accept(), [second.url])
  assert.equal(api.routeReads(), 4)
}

describe('routes version and routing cache', () => {
  test('sqlite: the trigger names every column of webhooks but the volatile ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-routes-'))
    const path = join(dir, 'webhooks.db')
    const store = await createSqliteStore({ path })
    try {
      const db = new Database(path, { readonly: true })
      try {
        const columns = db.prepare<[], string>("SELECT name FROM pragma_table_info('webhooks')").pluck().all().sort()
        const listed = [...ROUTES_VERSIONED_COLUMNS, ...ROUTES_VOLATILE_COLUMNS].sort()
        assert.deepEqual(columns, listed, 'a column of webhooks in neither list needs a new trigger (a new migration)')
        assert.equal(new Set(listed).size, listed.length, 'no column in both lists')
      } finally {
        db.close()
      }
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('sqlite: an API process routes from memory until another process changes a webhook', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-routes-'))
    const path = join(dir, 'webhooks.db')
    const a = await createSqliteStore({ path })
    const b = await createSqliteStore({ path })
    try {
      await routesFromMemory(a, b)
    } finally {
      await a.close()
      await b.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('postgres: an API process routes from memory until another process changes a webhook; a column added later moves the version too', async () => {
    const schema = randomSchemaName()
    const a = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })
    const b = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })
    try {
      await routesFromMemory(a, b)

      const workspaceId = newId('ws')
      await a.createWorkspace({ id: workspaceId, name: 'later', createdAt: new Date() })
      const hook = await a.createWebhook(webhookInput(workspaceId), new Date())
      // The triggers run with the writer's search_path, as the service's own statements do.
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
      await admin.connect()
      try {
        await admin.query('ALTER TABLE webhooks ADD COLUMN added_later text')
        const before = await routesVersionOf(a, workspaceId)
        await admin.query('UPDATE webhooks SET consecutive_failures = 3, last_success_at = 1 WHERE id = $1', [hook.id])
        assert.equal(await routesVersionOf(a, workspaceId), before, 'volatile columns leave it')
        await admin.query("UPDATE webhooks SET added_later = 'x' WHERE id = $1", [hook.id])
        assert.notEqual(await routesVersionOf(a, workspaceId), before)
      } finally {
        await admin.end()
      }
    } finally {
      await a.close()
      await b.close()
      await dropSchema(schema)
    }
  })
})
