/**
 * The delivery stack on either store, for tests that must hold on both: a fresh SQLite file or a
 * fresh PostgreSQL schema, one or more engines (each with its own store instance, as separate
 * worker processes would have) and the undici sender.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEngine } from '../../src/delivery/engine.js'
import type { Engine, EngineOptions } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import type { NewWebhook, Store, Webhook } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import { USER_AGENT } from '../../src/util/version.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { dropSchema, randomSchemaName, TEST_DATABASE_URL } from './postgres.js'

export const STORE_KINDS = ['sqlite', 'postgres'] as const
export type StoreKind = (typeof STORE_KINDS)[number]

export interface Stack {
  kind: StoreKind
  /** The store the test writes and reads through (the first engine's). */
  store: Store
  engines: Engine[]
  workspaceId: string
  /** For child processes: the PostgreSQL schema, or the SQLite file. */
  location: string
  addWebhook (fields: Partial<NewWebhook> & { url: string }): Promise<Webhook>
  close (): Promise<void>
}

/** `engines: 0` gives the store alone (nothing is sent). */
export async function startStack (kind: StoreKind, options: { engines?: number, engine?: Partial<EngineOptions> } = {}): Promise<Stack> {
  const engineCount = options.engines ?? 1
  const stores: Store[] = []
  let location: string
  let cleanup: () => Promise<void>
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-stack-'))
    location = join(dir, 'webhooks.db')
    const path = location
    const open = async (): Promise<Store> => await createSqliteStore({ path })
    for (let i = 0; i < Math.max(1, engineCount); i++) stores.push(await open())
    cleanup = async () => { rmSync(dir, { recursive: true, force: true }) }
  } else {
    const schema = randomSchemaName()
    location = schema
    for (let i = 0; i < Math.max(1, engineCount); i++) stores.push(await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema }))
    cleanup = async () => { await dropSchema(schema) }
  }
  const store = stores[0] as Store
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  const engines = stores.slice(0, engineCount).map((s, i) => createEngine({ idlePollMs: 200, owner: `engine-${i}`, ...options.engine }, { store: s, sender }))
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'test', createdAt: new Date() })
  for (const engine of engines) engine.start()
  return {
    kind,
    store,
    engines,
    workspaceId,
    location,
    async addWebhook (fields) {
      return await store.createWebhook(webhookInput(workspaceId, { secret: 'whsec_test_secret', ...fields }), new Date())
    },
    async close () {
      await Promise.all(engines.map(async (engine) => { await engine.stop(1_000) }))
      await sender.close()
      for (const s of stores) await s.close()
      await cleanup()
    },
  }
}
