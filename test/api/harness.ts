/**
 * An API on a fresh SQLite file with an admin key and two workspaces (A and B), driven with
 * app.inject(): no ports. Every test makes its own and closes it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/api/app.js'
import { makeApiKey } from '../../src/api/auth.js'
import { resolveConfig } from '../../src/config/load.js'
import { createMetrics } from '../../src/observability/metrics.js'
import type { Metrics } from '../../src/observability/metrics.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/store.js'
import { createLogger } from '../../src/util/logger.js'
import { makePostgresStore } from '../helpers/postgres.js'

export interface TestWorkspace {
  id: string
  key: string
}

export interface Harness {
  app: FastifyInstance
  store: Store
  metrics: Metrics
  dir: string
  adminKey: string
  a: TestWorkspace
  b: TestWorkspace
  /** inject with a key (the A workspace's unless given) and a JSON body. */
  call (method: InjectOptions['method'], url: string, body?: unknown, key?: string | null): Promise<LightMyRequestResponse>
  close (): Promise<void>
}

export interface HarnessOptions {
  allowPrivateNetworks?: boolean
  /** More KEJUE_* settings. */
  env?: Record<string, string>
  /** The store behind the API: a fresh SQLite file (default) or a fresh PostgreSQL schema. */
  driver?: 'sqlite' | 'postgres'
}

export async function createHarness (options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'kejue-api-'))
  const postgres = options.driver === 'postgres' ? await makePostgresStore({ poolSize: 4 }) : null
  const store = postgres?.store ?? await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const config = resolveConfig({ env: { KEJUE_ALLOW_PRIVATE_NETWORKS: String(options.allowPrivateNetworks ?? false), ...options.env } })
  const metrics = createMetrics({ processMetrics: false })
  const app = await buildApp({ store, config, logger: createLogger({ level: 'silent' }), metrics })
  await app.ready()
  const admin = makeApiKey(null)
  await store.createApiKey(admin.row)

  async function call (method: InjectOptions['method'], url: string, body?: unknown, key: string | null = a.key): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {}
    if (key !== null) headers['x-api-key'] = key
    if (body !== undefined) headers['content-type'] = 'application/json'
    return app.inject({ method, url, headers, payload: body === undefined ? undefined : JSON.stringify(body) })
  }
  async function workspace (name: string): Promise<TestWorkspace> {
    const res = await call('POST', '/api/v1/workspaces', { name }, admin.token)
    if (res.statusCode !== 201) throw new Error(`workspace create failed: ${res.statusCode} ${res.body}`)
    const json = res.json<{ id: string, api_key: string }>()
    return { id: json.id, key: json.api_key }
  }
  const a: TestWorkspace = await workspace('A')
  const b = await workspace('B')

  return {
    app,
    store,
    metrics,
    dir,
    adminKey: admin.token,
    a,
    b,
    call,
    async close () {
      await app.close()
      if (postgres !== null) await postgres.cleanup()
      else await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A public address literal, so tests with the guard on never resolve a name. */
export const PUBLIC_URL = 'https://93.184.216.34/hooks/kejue'

export function fieldPaths (res: LightMyRequestResponse): string[] {
  const body = res.json<{ details: { fields?: Array<{ path: string }> } }>()
  return (body.details.fields ?? []).map((f) => f.path)
}
