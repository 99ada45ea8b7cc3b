/**
 * Isolation bench (docs/delivery.md, "Isolation"; issue: a dead neighbour on the same host took
 * a healthy webhook down to 0.019× its rate). A phase module: `npm run bench -- --isolation`, or
 * alone: `node --import tsx bench/isolation.ts [--store postgres] [--events N] [--backlog N]
 * [--cases fast,dead-same,dead-other,hostile]`.
 *
 * Each case is a fresh store with two or more webhooks: the healthy one (`/live`, answers 200 at
 * once) and its neighbours, whose backlog of `backlog` deliveries (all neighbours together) is
 * older, so the engine meets it first. Measured: the healthy webhook's delivery rate, from engine start until its `events`
 * deliveries have arrived, and the CPU the engine process spent per healthy delivery.
 *
 *   fast           the neighbour answers 200 at once (the reference)
 *   dead, same     the neighbour is another path on the same host and never answers (timeout 5 s)
 *   dead, other    the same, on another host (127.0.0.2)
 *   hostile, same  three neighbours on the same host: endless headers, headers at 1 byte/s,
 *                  a body at 1 byte/s (timeout 5 s)
 *
 * Ratios are rate ÷ the fast case of the same run (goal ≥ 0.9). No breaker is involved: this
 * measures the pools and slots alone. Receivers run in a child process (this file, forked).
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { acceptEvent } from '../src/delivery/accept-event.js'
import { createEngine } from '../src/delivery/engine.js'
import { createHttpClient } from '../src/delivery/http-client.js'
import { samplePayload } from '../src/events/samples.js'
import { openStore } from '../src/store/open-store.js'
import type { Store } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { USER_AGENT } from '../src/util/version.js'
import { endlessHeaders, trickledBody, trickledHeaders } from '../test/helpers/hostile-replies.js'
import { makePostgresStore } from '../test/helpers/postgres.js'

export interface IsolationOptions {
  store: 'sqlite' | 'postgres'
  /** Deliveries to the healthy webhook per case. @defaultValue 5000 */
  events?: number
  /** Deliveries pending to the neighbours (all together) before the engine starts. @defaultValue 3000 */
  backlog?: number
  /** Which cases to run, by key (`fast,dead-same,dead-other,hostile`). @defaultValue all */
  cases?: string[]
}

interface Neighbour { host: '127.0.0.1' | '127.0.0.2', path: string }

interface CaseResult { name: string, rate: number, cpuMsPerDelivery: number }

const CASES: Array<{ key: string, name: string, neighbours: Neighbour[] }> = [
  { key: 'fast', name: 'fast neighbour', neighbours: [{ host: '127.0.0.1', path: '/fast' }] },
  { key: 'dead-same', name: 'dead, same host', neighbours: [{ host: '127.0.0.1', path: '/dead' }] },
  { key: 'dead-other', name: 'dead, other host', neighbours: [{ host: '127.0.0.2', path: '/dead' }] },
  {
    key: 'hostile',
    name: 'hostile, same host',
    neighbours: [
      { host: '127.0.0.1', path: '/endless-headers' },
      { host: '127.0.0.1', path: '/trickled-headers' },
      { host: '127.0.0.1', path: '/trickled-body' },
    ],
  },
]

// ---- the receiver child: the same server on 127.0.0.1 and 127.0.0.2 ----

function receiverMain (): void {
  let live = 0
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume()
    req.on('end', () => {
      const path = req.url ?? ''
      if (path === '/live' || path === '/fast') {
        if (path === '/live') live++
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('ok')
      } else if (path === '/endless-headers') endlessHeaders(res)
      else if (path === '/trickled-headers') trickledHeaders(res)
      else if (path === '/trickled-body') trickledBody(res)
      // '/dead': never answers
    })
  }
  const servers: Server[] = []
  const listen = (host: string, port: number): Promise<number> => new Promise((resolve) => {
    const server = createServer(handler)
    server.keepAliveTimeout = 60_000
    servers.push(server)
    server.listen(port, host, () => {
      const address = server.address()
      resolve(address !== null && typeof address !== 'string' ? address.port : 0)
    })
  })
  void (async () => {
    const port = await listen('127.0.0.1', 0)
    await listen('127.0.0.2', port)
    process.send?.({ type: 'ready', port })
  })()
  process.on('message', (message: { type: string }) => {
    if (message.type === 'count') process.send?.({ type: 'count', live })
    if (message.type === 'reset') {
      live = 0
      process.send?.({ type: 'reset' })
    }
    if (message.type === 'exit') {
      for (const server of servers) server.closeAllConnections()
      process.exit(0)
    }
  })
}

// ---- the bench ----

interface ReceiverHandle { port: number, live (): Promise<number>, reset (): Promise<void>, close (): void }

function startReceivers (): Promise<ReceiverHandle> {
  const child = fork(new URL(import.meta.url), ['--receiver'], { execArgv: ['--import', 'tsx'] })
  const ask = <T extends { type: string }>(type: string): Promise<T> => new Promise((resolve) => {
    const onMessage = (message: T): void => {
      if (message.type !== type) return
      child.off('message', onMessage)
      resolve(message)
    }
    child.on('message', onMessage)
    child.send({ type })
  })
  return new Promise((resolve) => {
    child.once('message', (message: { port: number }) => resolve({
      port: message.port,
      live: async () => (await ask<{ type: string, live: number }>('count')).live,
      reset: async () => { await ask('reset') },
      close: () => { child.send({ type: 'exit' }) },
    }))
  })
}

async function openCaseStore (kind: IsolationOptions['store']): Promise<{ store: Store, cleanup (): Promise<void> }> {
  if (kind === 'postgres') return await makePostgresStore()
  const dir = mkdtempSync(join(tmpdir(), 'kejue-bench-isolation-'))
  const store = await openStore({ dataDir: dir })
  return {
    store,
    async cleanup () {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function accept (store: Store, workspaceId: string, event: 'call.started' | 'call.ended', total: number): Promise<void> {
  const data = samplePayload(event)
  for (let i = 0; i < total; i += 256) {
    await Promise.all(Array.from({ length: Math.min(256, total - i) }, () => acceptEvent(store, { workspaceId, event, data })))
  }
}

async function runCase (receivers: ReceiverHandle, options: Required<IsolationOptions>, neighbours: Neighbour[]): Promise<{ rate: number, cpuMsPerDelivery: number }> {
  const { store, cleanup } = await openCaseStore(options.store)
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  // The breaker is off: this measures what pools and slots alone do for isolation.
  const engine = createEngine({ breakerThreshold: 0 }, { store, sender })
  try {
    const workspaceId = newId('ws')
    await store.createWorkspace({ id: workspaceId, name: 'bench', createdAt: new Date() })
    const webhook = (url: string, events: string[]): Promise<unknown> => store.createWebhook({
      id: newId('wh'), workspaceId, url, events, name: 'bench', signingMethod: 'hmac_sha256', secret: 'whsec_bench',
      scopeType: 'global', personaId: null, enabled: true, jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500,
    }, new Date())
    for (const n of neighbours) await webhook(`http://${n.host}:${receivers.port}${n.path}`, ['call.started'])
    await webhook(`http://127.0.0.1:${receivers.port}/live`, ['call.ended'])
    // The neighbours' backlog is older: the engine meets it first. One event reaches every
    // neighbour, so each case has `backlog` neighbour deliveries in all, however many neighbours.
    await accept(store, workspaceId, 'call.started', Math.ceil(options.backlog / neighbours.length))
    await accept(store, workspaceId, 'call.ended', options.events)
    await receivers.reset()
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    engine.start()
    const deadline = Date.now() + 300_000
    while (await receivers.live() < options.events) {
      if (Date.now() > deadline) throw new Error('the healthy webhook did not get its deliveries within 300 s')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    return { rate: options.events / seconds, cpuMsPerDelivery: (cpu.user + cpu.system) / 1000 / options.events }
  } finally {
    await engine.stop(0)
    await sender.close()
    await cleanup()
  }
}

/** Runs every case once and prints a table; returns the results for the caller. */
export async function runIsolation (input: IsolationOptions): Promise<CaseResult[]> {
  const options: Required<IsolationOptions> = { events: 5_000, backlog: 3_000, cases: CASES.map((c) => c.key), ...input }
  const receivers = await startReceivers()
  const results: CaseResult[] = []
  try {
    console.log(`isolation — store ${options.store}, ${options.events} healthy deliveries, ${options.backlog} pending to the neighbours (timeout 5 s), no breaker`)
    // The fast case is the reference for the ratios, so it always runs first.
    for (const c of CASES.filter((c) => c.key === 'fast' || options.cases.includes(c.key))) {
      const { rate, cpuMsPerDelivery } = await runCase(receivers, options, c.neighbours)
      results.push({ name: c.name, rate, cpuMsPerDelivery })
      const fast = results[0]?.rate ?? rate
      console.log(`isolation ${c.name.padEnd(19)} healthy rate ${rate.toFixed(0).padStart(6)} deliveries/s = ${(rate / fast).toFixed(2)} × fast neighbour, CPU ${cpuMsPerDelivery.toFixed(3)} ms/delivery`)
    }
  } finally {
    receivers.close()
  }
  return results
}

if (process.argv.includes('--receiver')) {
  receiverMain()
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'sqlite' },
      events: { type: 'string', default: '5000' },
      backlog: { type: 'string', default: '3000' },
      cases: { type: 'string', default: CASES.map((c) => c.key).join(',') },
    },
  })
  await runIsolation({ store: values.store === 'postgres' ? 'postgres' : 'sqlite', events: Number(values.events), backlog: Number(values.backlog), cases: values.cases.split(',') })
}
