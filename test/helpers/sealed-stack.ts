/**
 * The service's stack over the store `openStore` gives (secrets sealed at rest), on SQLite (a
 * temp data dir) or PostgreSQL (a throw-away schema): the API driven with inject(), the real
 * engine and sender, and an engine clock tests can move forward (`advance`).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import { buildApp } from '../../src/api/app.js'
import { makeApiKey } from '../../src/api/auth.js'
import { resolveConfig } from '../../src/config/load.js'
import { createEngine } from '../../src/delivery/engine.js'
import type { Engine, EngineOptions } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { createLogger } from '../../src/util/logger.js'
import { USER_AGENT } from '../../src/util/version.js'
import { systemClock } from '../../src/util/clock.js'
import type { TimerClock } from '../../src/util/clock.js'
import { TEST_DATABASE_URL, dropSchema, randomSchemaName } from './postgres.js'

export type Driver = 'sqlite' | 'postgres'

export interface SealedStack {
  app: FastifyInstance
  store: Store
  engine: Engine
  dir: string
  /** The database URL (PostgreSQL) and its schema, for pg_dump. */
  databaseUrl: string | null
  schema: string | null
  encryptionKey: string
  key: string
  /** Moves the engine's clock forward. */
  advance (ms: number): void
  call (method: InjectOptions['method'], url: string, body?: unknown): Promise<LightMyRequestResponse>
  close (): Promise<void>
}

export async function postgresUrlFor (schema: string): Promise<string> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await admin.end()
  }
  return `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`
}

export async function startSealedStack (driver: Driver, options: { engine?: Partial<EngineOptions> } = {}): Promise<SealedStack> {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-sealed-'))
  const schema = driver === 'postgres' ? randomSchemaName() : null
  const databaseUrl = schema === null ? null : await postgresUrlFor(schema)
  const encryptionKey = randomBytes(32).toString('base64')
  const store = await openStore({ dataDir: dir, databaseUrl: databaseUrl ?? undefined, encryptionKey })
  let offsetMs = 0
  // The system clock, moved forward by `advance`: timers stay real, due times jump.
  const clock: TimerClock = { ...systemClock, now: () => Date.now() + offsetMs }
  const config = resolveConfig({ env: { KEJUE_ALLOW_PRIVATE_NETWORKS: 'true' } })
  const app = await buildApp({ store, config, logger: createLogger({ level: 'silent' }) })
  await app.ready()
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  const engine = createEngine({ idlePollMs: 50, ...options.engine }, { store, sender, clock })
  engine.start()
  const admin = makeApiKey(null)
  await store.createApiKey(admin.row)
  const created = await app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { 'x-api-key': admin.token, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'privacy' }) })
  const key = created.json<{ api_key: string }>().api_key

  return {
    app,
    store,
    engine,
    dir,
    databaseUrl,
    schema,
    encryptionKey,
    key,
    advance (ms) {
      offsetMs += ms
      engine.wake()
    },
    async call (method, url, body) {
      const headers: Record<string, string> = { 'x-api-key': key }
      if (body !== undefined) headers['content-type'] = 'application/json'
      return await app.inject({ method, url, headers, payload: body === undefined ? undefined : JSON.stringify(body) })
    },
    async close () {
      await engine.stop(1_000)
      await sender.close()
      await app.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
      if (schema !== null) await dropSchema(schema)
    },
  }
}
