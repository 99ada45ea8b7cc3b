/**
 * Routing phase: does ingest slow down with the number of webhooks in a workspace?
 *
 * Accepts N call.started events (64 at once, as concurrent API requests would) for one webhook, in
 * a workspace with only that webhook and in workspaces that also hold M webhooks that must not get
 * them: M subscribed to call.ended, and M persona-scoped to other personas subscribed to
 * call.started. Rounds are interleaved so that machine noise and store growth hit every case
 * alike; the median of each case is compared with the one-webhook case (goal: within 10 %).
 * `--http` accepts the same events through `POST /api/v1/events` on a loopback port as well (the
 * full ingest path, undici with 64 connections). `--old` also times the former routing (every
 * webhook of the workspace read per event): on the one-webhook workspace, where the index saves
 * nothing (what it costs), and on a few events of the crowded one (what it saves).
 *
 *   node --import tsx bench/routing.ts [--store sqlite|postgres] [--events 3000] [--webhooks 10000] [--rounds 3] [--http] [--old]
 *   npm run bench -- --phase routing [same options]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { Pool } from 'undici'
import { buildApp } from '../src/api/app.js'
import { makeApiKey } from '../src/api/auth.js'
import { resolveConfig } from '../src/config/load.js'
import { acceptEvent } from '../src/delivery/accept-event.js'
import { samplePayload } from '../src/events/samples.js'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import type { NewWebhook, Store } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { createLogger } from '../src/util/logger.js'
import { median } from './phase.js'

export interface RoutingPhaseOptions {
  /** Events accepted per case and round. */
  events: number
  /** Webhooks that do not get the events, per crowded workspace. */
  webhooks: number
  rounds: number
  /** Also through POST /api/v1/events. */
  http?: boolean
  /** Also time the former routing (listWebhooks per event) on a few events. */
  old?: boolean
  log?: (line: string) => void
}

export interface RoutingPhaseResult {
  /** Median events/s per path and case ("acceptEvent: one webhook", "POST /events: …"). */
  rates: Record<string, number>
  /** Each crowded case's median ÷ the one-webhook case's median. */
  ratios: Record<string, number>
}

const IN_FLIGHT = 64

function webhook (workspaceId: string, fields: Partial<NewWebhook>): NewWebhook {
  return {
    id: newId('wh'), workspaceId, url: 'https://example.com/hook', events: ['call.started'], name: null,
    signingMethod: 'hmac_sha256', secret: 'whsec_bench', scopeType: 'global', personaId: null, enabled: true,
    jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500, ...fields,
  }
}

/** A workspace with the one target webhook and `others` more made by `other(i)`. */
async function workspaceWith (store: Store, others: number, other: (workspaceId: string, i: number) => NewWebhook): Promise<string> {
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'bench', createdAt: new Date() })
  for (let i = 0; i < others; i += 250) {
    const batch = Array.from({ length: Math.min(250, others - i) }, (_, j) => other(workspaceId, i + j))
    await Promise.all(batch.map(async (hook) => await store.createWebhook(hook, new Date())))
  }
  await store.createWebhook(webhook(workspaceId, { name: 'target' }), new Date())
  return workspaceId
}

/**
 * Sends `count` call.started events, each of a new call, `IN_FLIGHT` at once, with `send` (which
 * returns the deliveries the event created); returns events/s.
 */
async function timeIngest (count: number, send: (data: Record<string, unknown>) => Promise<number>): Promise<number> {
  const base = samplePayload('call.started')
  let next = 0
  let deliveries = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) {
      next++
      const created = await send({ ...base, job_id: newId('job') })
      deliveries += created
    }
  }))
  const rate = count / ((performance.now() - started) / 1000)
  // Each event must have gone to the target webhook only, or the comparison means nothing.
  if (deliveries !== count) throw new Error(`expected ${count} deliveries, got ${deliveries}`)
  return rate
}

/** Through `acceptEvent`, as every producer in the process does. */
async function ingest (store: Store, workspaceId: string, count: number): Promise<number> {
  return await timeIngest(count, async (data) => (await acceptEvent(store, { workspaceId, event: 'call.started', data })).deliveries)
}

/** Through `POST /api/v1/events`. */
async function ingestHttp (pool: Pool, apiKey: string, count: number): Promise<number> {
  return await timeIngest(count, async (data) => {
    const res = await pool.request({
      method: 'POST',
      path: '/api/v1/events',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ event: 'call.started', data }),
    })
    const answer = await res.body.json() as { deliveries?: number }
    if (res.statusCode !== 202) throw new Error(`POST /api/v1/events answered ${res.statusCode}: ${JSON.stringify(answer)}`)
    return answer.deliveries ?? 0
  })
}

/** The API on a loopback port, and a workspace key per case. */
async function startApi (store: Store, workspaceIds: readonly string[]): Promise<{ pool: Pool, keys: Map<string, string>, close: () => Promise<void> }> {
  const app = await buildApp({ store, config: resolveConfig({ env: {} }), logger: createLogger({ level: 'silent' }) })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const keys = new Map<string, string>()
  for (const workspaceId of workspaceIds) {
    const key = makeApiKey(workspaceId)
    await store.createApiKey(key.row)
    keys.set(workspaceId, key.token)
  }
  const pool = new Pool(address, { connections: IN_FLIGHT })
  return {
    pool,
    keys,
    close: async () => {
      await pool.close()
      await app.close()
    },
  }
}

/** The store as routing used it before the index: every webhook of the workspace per event. */
function oldRouting (store: Store): Store {
  return new Proxy(store, {
    get (target, key, receiver) {
      if (key === 'routeWebhooks') return async (workspaceId: string) => await target.listWebhooks(workspaceId)
      return Reflect.get(target, key, receiver) as unknown
    },
  })
}

export async function routingPhase (store: Store, options: RoutingPhaseOptions): Promise<RoutingPhaseResult> {
  const log = options.log ?? console.log
  const M = options.webhooks
  const seedStart = performance.now()
  const cases: Record<string, string> = {
    'one webhook': await workspaceWith(store, 0, () => { throw new Error('unused') }),
    [`+${M} on call.ended`]: await workspaceWith(store, M, (ws) => webhook(ws, { events: ['call.ended'] })),
    [`+${M} other personas`]: await workspaceWith(store, M, (ws, i) => webhook(ws, { scopeType: 'persona', personaId: `per_other_${i}` })),
  }
  log(`routing   seeded ${2 * M} webhooks in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`)
  const api = options.http === true ? await startApi(store, Object.values(cases)) : null
  const paths: Record<string, (workspaceId: string, count: number) => Promise<number>> = {
    acceptEvent: async (workspaceId, count) => await ingest(store, workspaceId, count),
  }
  // The former routing on the one-webhook workspace: what the index costs where it saves nothing.
  if (options.old === true) paths['former routing'] = async (workspaceId, count) => workspaceId === cases['one webhook'] ? await ingest(oldRouting(store), workspaceId, count) : NaN
  if (api !== null) paths['POST /events'] = async (workspaceId, count) => await ingestHttp(api.pool, api.keys.get(workspaceId) ?? '', count)
  const rates: Record<string, number> = {}
  const ratios: Record<string, number> = {}
  // Rounds outermost, so that every path and case sees the same machine noise and store growth.
  const samples = new Map<string, number[]>()
  try {
    for (const run of Object.values(paths)) await run(cases['one webhook'] ?? '', Math.min(500, options.events)) // warm-up
    for (let round = 1; round <= options.rounds; round++) {
      for (const [path, run] of Object.entries(paths)) {
        for (const [name, workspaceId] of Object.entries(cases)) {
          const rate = await run(workspaceId, options.events)
          if (Number.isNaN(rate)) continue
          const key = `${path}: ${name}`
          samples.set(key, [...(samples.get(key) ?? []), rate])
          log(`routing   round ${round} ${key.padEnd(40)} ${rate.toFixed(0).padStart(6)} events/s`)
        }
      }
    }
  } finally {
    await api?.close()
  }
  for (const [key, values] of samples) {
    const path = key.slice(0, key.indexOf(': '))
    const one = median(samples.get(`${path === 'former routing' ? 'acceptEvent' : path}: one webhook`) ?? [])
    rates[key] = median(values)
    const spread = `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`
    const compared = key.endsWith(': one webhook') && path !== 'former routing' ? '' : ` = ${(rates[key] / one).toFixed(2)}${path === 'former routing' ? ' × the indexed routing' : ' × one webhook (goal ≥ 0.90)'}`
    if (compared !== '') ratios[key] = rates[key] / one
    log(`routing   ${key.padEnd(40)} median ${rates[key].toFixed(0).padStart(6)} events/s (${spread})${compared}`)
  }
  const one = rates['acceptEvent: one webhook'] ?? NaN
  if (options.old === true) {
    const few = Math.min(300, options.events)
    const crowded = cases[`+${M} on call.ended`] ?? ''
    const before = await ingest(oldRouting(store), crowded, few)
    log(`routing   former routing +${M} on call.ended (${few} events): ${before.toFixed(0)} events/s = ${(before / one).toFixed(2)} × one webhook`)
  }
  return { rates, ratios }
}

/** Runs the phase on a throw-away store: a SQLite file in a temp dir, or a PostgreSQL schema. */
export async function runRoutingBench (argv: string[]): Promise<RoutingPhaseResult> {
  const { values: args } = parseArgs({
    args: argv,
    strict: false,
    options: {
      store: { type: 'string', default: 'sqlite' },
      events: { type: 'string', default: '3000' },
      webhooks: { type: 'string', default: '10000' },
      rounds: { type: 'string', default: '3' },
      http: { type: 'boolean', default: false },
      old: { type: 'boolean', default: false },
    },
  })
  const options = {
    events: Number(args.events), webhooks: Number(args.webhooks), rounds: Number(args.rounds), http: args.http === true, old: args.old === true,
  }
  if (args.store === 'postgres') {
    const connectionString = process.env.KEJUE_BENCH_DATABASE_URL ?? process.env.KEJUE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
    const schema = `bench_${randomBytes(4).toString('hex')}`
    const store = await createPostgresStore({ connectionString, schema })
    try {
      console.log(`kejue-webhooks routing bench — store postgres, ${options.events} events per case, ${options.webhooks} other webhooks`)
      return await routingPhase(store, options)
    } finally {
      await store.close()
      const pg = (await import('pg')).default
      const admin = new pg.Client({ connectionString })
      await admin.connect()
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(async () => { await admin.end() })
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'kejue-bench-routing-'))
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  try {
    console.log(`kejue-webhooks routing bench — store sqlite, ${options.events} events per case, ${options.webhooks} other webhooks`)
    return await routingPhase(store, options)
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runRoutingBench(process.argv.slice(2))
