/**
 * `npm run bench`: the delivery engine against a loopback receiver in its own process.
 *
 * Prints, in one run:
 *  1. baseline — signed undici POSTs straight to the receiver, as fast as `concurrency` allows;
 *  2. drain    — the engine delivering a stored backlog of N events to the same receiver;
 *  3. the ratio drain / baseline (target ≥ 0.6);
 *  4. latency  — accept→arrival p50/p99 while events are accepted at a steady rate (target p99 ≤ 20 ms at 1,000/s).
 *
 * Options: --events N (50000), --rate R (1000), --seconds S (5), --store sqlite|postgres,
 *          --workers 1,2 (postgres: drain with each number of worker processes),
 *          --phase routing (only ingest vs the number of webhooks: bench/routing.ts).
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { DEFAULTS } from '../src/config/defaults.js'
import { acceptEvent } from '../src/delivery/accept-event.js'
import { createEngine } from '../src/delivery/engine.js'
import { createHttpClient } from '../src/delivery/http-client.js'
import { samplePayload } from '../src/events/samples.js'
import { signHeaders } from '../src/signing/signer.js'
import pg from 'pg'
import { openStore } from '../src/store/open-store.js'
import { startWorkerProcesses } from './worker-processes.js'
import { runRoutingBench } from './routing.js'
import type { Store, Webhook } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { USER_AGENT } from '../src/util/version.js'

// `--phase routing`: only the routing phase (bench/routing.ts), which takes its own options.
if (process.argv.slice(2).join(' ').includes('--phase routing')) {
  await runRoutingBench(process.argv.slice(2))
  process.exit(0)
}

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    store: { type: 'string', default: 'sqlite' },
    workers: { type: 'string', default: '1,2' },
  },
})
const EVENTS = Number(args.events)
const RATE = Number(args.rate)
const SECONDS = Number(args.seconds)
const CONCURRENCY = DEFAULTS.engine.maxInFlightPerWebhook
const SECRET = 'whsec_bench'

interface ReceiverStats { count: number, latencies: number[] }

function startReceiver (): Promise<{ port: number, stats (): Promise<ReceiverStats>, reset (): Promise<void>, close (): void }> {
  const child = fork(new URL('./receiver-process.ts', import.meta.url), { execArgv: ['--import', 'tsx'] })
  const ask = <T>(type: string): Promise<T> => new Promise((resolve) => {
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return
      child.off('message', onMessage)
      resolve(message as T)
    }
    child.on('message', onMessage)
    child.send({ type })
  })
  return new Promise((resolve) => {
    child.once('message', (message: { port: number }) => resolve({
      port: message.port,
      stats: () => ask<ReceiverStats>('stats'),
      reset: async () => { await ask('reset') },
      close: () => { child.send({ type: 'exit' }) },
    }))
  })
}

async function baseline (url: string, total: number): Promise<number> {
  const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 })
  const body = JSON.stringify({ event: 'call.ended', event_id: newId('evt'), workspace_id: 'ws_bench', timestamp: new Date().toISOString(), data: samplePayload('call.ended'), metadata: {} })
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < total) {
      next++
      const res = await request(url, {
        method: 'POST',
        dispatcher: agent,
        body,
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signHeaders('hmac_sha256', SECRET, body, Date.now()) },
      })
      await res.body.dump()
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await agent.close()
  return total / seconds
}

async function fillBacklog (store: Store, workspaceId: string, total: number): Promise<void> {
  const data = samplePayload('call.ended')
  // As the API would: many requests at once, so the store can commit them together.
  for (let i = 0; i < total; i += 256) {
    await Promise.all(Array.from({ length: Math.min(256, total - i) }, () => acceptEvent(store, { workspaceId, event: 'call.ended', data })))
  }
}

async function waitFor (receiver: { stats (): Promise<ReceiverStats> }, total: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await receiver.stats()).count >= total) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`receiver got fewer than ${total} requests in ${timeoutMs} ms`)
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

async function setup (store: Store, url: string): Promise<{ workspaceId: string, webhook: Webhook }> {
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'bench', createdAt: new Date() })
  const webhook = await store.createWebhook({
    id: newId('wh'), workspaceId, url, events: ['*'], name: 'bench', signingMethod: 'hmac_sha256', secret: SECRET,
    scopeType: 'global', personaId: null, enabled: true, jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500,
  }, new Date())
  return { workspaceId, webhook }
}

async function main (): Promise<void> {
  const receiver = await startReceiver()
  const url = `http://127.0.0.1:${receiver.port}/hook`
  const dir = mkdtempSync(join(tmpdir(), 'kejue-bench-'))
  const postgres = args.store === 'postgres'
  const databaseUrl = postgres ? await createBenchDatabase() : undefined
  const store = await openStore({ dataDir: dir, databaseUrl })
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  try {
    console.log(`kejue-webhooks bench — store ${store.driver}, ${EVENTS} events, receiver in its own process, ${CONCURRENCY} connections`)
    await baseline(url, Math.min(5_000, EVENTS))
    await receiver.reset()
    const base = await baseline(url, EVENTS)
    console.log(`baseline  raw signed undici POSTs:     ${base.toFixed(0).padStart(7)} req/s`)
    await receiver.reset()

    const { workspaceId } = await setup(store, url)
    const fillStart = performance.now()
    await fillBacklog(store, workspaceId, EVENTS)
    console.log(`(accepted ${EVENTS} events in ${((performance.now() - fillStart) / 1000).toFixed(1)} s: ${(EVENTS / ((performance.now() - fillStart) / 1000)).toFixed(0)} events/s)`)

    const workerCounts = args.store === 'postgres' ? args.workers.split(',').map(Number) : [1]
    let firstDrain = 0
    for (const [index, workers] of workerCounts.entries()) {
      if (index > 0) {
        await receiver.reset()
        await fillBacklog(store, workspaceId, EVENTS)
      }
      let rate: number
      if (databaseUrl !== undefined) {
        const started = performance.now()
        const procs = await startWorkerProcesses(workers, databaseUrl)
        await waitFor(receiver, EVENTS, 300_000)
        rate = EVENTS / ((performance.now() - started) / 1000)
        await procs.stop()
      } else {
        const engine = createEngine({}, { store, sender })
        const started = performance.now()
        engine.start()
        await waitFor(receiver, EVENTS, 300_000)
        rate = EVENTS / ((performance.now() - started) / 1000)
        await engine.stop()
      }
      if (index === 0) firstDrain = rate
      const vsOne = index === 0 ? '' : `, ${(rate / firstDrain).toFixed(2)}× one worker`
      console.log(`drain     engine, ${workers} worker${workers > 1 ? 's' : ' '} backlog: ${rate.toFixed(0).padStart(7)} deliveries/s  = ${(rate / base).toFixed(2)} × baseline${vsOne}`)
    }

    await receiver.reset()
    const engine = createEngine({}, { store, sender })
    engine.start()
    const total = RATE * SECONDS
    const data = samplePayload('call.ended')
    const tickMs = 10
    const perTick = RATE * tickMs / 1000
    const started = performance.now()
    const accepting: Array<Promise<unknown>> = []
    for (let sent = 0; sent < total;) {
      // Each tick's events are accepted at once, as concurrent API requests would be.
      for (let i = 0; i < perTick && sent < total; i++, sent++) {
        accepting.push(acceptEvent(store, { workspaceId, event: 'call.ended', data, metadata: { sent_at_ms: performance.timeOrigin + performance.now() } }))
      }
      const wait = started + ((sent / perTick) * tickMs) - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
    await Promise.all(accepting)
    await waitFor(receiver, total, 60_000)
    await engine.stop()
    const latencies = (await receiver.stats()).latencies.sort((a, b) => a - b)
    console.log(`latency   accept→arrival at ${RATE}/s for ${SECONDS} s: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${percentile(latencies, 100).toFixed(1)} ms`)
  } finally {
    await sender.close()
    await store.close()
    receiver.close()
    rmSync(dir, { recursive: true, force: true })
    if (databaseUrl !== undefined) await adminQuery(`DROP DATABASE IF EXISTS ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`)
  }
}

const ADMIN_URL = process.env.KEJUE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function adminQuery (sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** A database of its own, so worker processes (which take a plain URL) share exactly it. */
async function createBenchDatabase (): Promise<string> {
  const name = `kejue_bench_${process.pid}`
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await adminQuery(`CREATE DATABASE ${name}`)
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return url.toString()
}

await main()
