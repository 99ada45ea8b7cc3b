/**
 * A real delivery stack for tests: a SQLite file in a temp dir, the undici sender and the engine,
 * plus helpers to add webhooks and wait for deliveries to settle.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEngine } from '../../src/delivery/engine.js'
import type { Engine, EngineOptions } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { Delivery, DeliveryStatus, NewWebhook, Store, Webhook } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { USER_AGENT } from '../../src/util/version.js'
import type { TimerClock } from '../../src/util/clock.js'
import { makePostgresStore } from './postgres.js'

export interface Harness {
  store: Store
  engine: Engine
  workspaceId: string
  dir: string
  addWebhook (fields: Partial<NewWebhook> & { url: string }): Promise<Webhook>
  waitForDelivery (id: string, status: DeliveryStatus, timeoutMs?: number): Promise<Delivery>
  close (): Promise<void>
}

export interface HarnessOptions {
  allowPrivateNetworks?: boolean
  engine?: Partial<EngineOptions>
  start?: boolean
  random?: () => number
  /** The engine's clock. @defaultValue systemClock */
  clock?: TimerClock
  /** @defaultValue 'sqlite' */
  store?: 'sqlite' | 'postgres'
}

export async function startHarness (options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-engine-'))
  const postgres = options.store === 'postgres' ? await makePostgresStore() : null
  const store = postgres?.store ?? await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const sender = createHttpClient({ allowPrivateNetworks: options.allowPrivateNetworks ?? true, userAgent: USER_AGENT })
  const engine = createEngine({ ...options.engine }, { store, sender, random: options.random, clock: options.clock })
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'test', createdAt: new Date() })
  if (options.start !== false) engine.start()

  return {
    store,
    engine,
    workspaceId,
    dir,
    addWebhook (fields) {
      return store.createWebhook(webhookInput(workspaceId, { secret: 'whsec_test_secret', ...fields }), new Date())
    },
    async waitForDelivery (id, status, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      let last: Delivery | null = null
      while (Date.now() < deadline) {
        last = await store.getDelivery(workspaceId, id)
        if (last?.status === status) return last
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      throw new Error(`delivery ${id} is ${last?.status ?? 'missing'}, not ${status}, after ${timeoutMs} ms`)
    },
    async close () {
      await engine.stop(1_000)
      await sender.close()
      if (postgres !== null) await postgres.cleanup()
      else await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
