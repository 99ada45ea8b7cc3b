/**
 * `npm run bench -- --backlog N`: does a backlog of N deliveries to dead endpoints slow everyone
 * else down? Measured in one run, on a store with an empty queue and on one with the backlog:
 *  - accept: events accepted for a healthy webhook (acceptEvent, 256 at once, engine stopped);
 *  - drain:  the engine delivering those events to the loopback receiver;
 *  - RSS of this process, which runs the engine, sampled through both.
 * The backlog is written straight into the store (one INSERT … SELECT per chunk): half of it due
 * now for one webhook whose endpoint accepts connections and never answers (so the engine holds
 * its share and leaves it out of every claim), the other half scheduled over the next hour for
 * twenty more dead webhooks (retries waiting). Goal (docs/performance.md): both rates within 10 %
 * of the empty-queue figures, RSS ≤ 256 MB.
 */
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Server, Socket } from 'node:net'
import Database from 'better-sqlite3'
import pg from 'pg'
import { acceptEvent } from '../src/delivery/accept-event.js'
import { createEngine } from '../src/delivery/engine.js'
import type { HttpSender } from '../src/delivery/outcome.js'
import { samplePayload } from '../src/events/samples.js'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import type { Store, Webhook } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'

/** Where seeded rows go: the SQLite file or the PostgreSQL database (and schema) of the store. */
export type BacklogTarget =
  | { driver: 'sqlite', path: string }
  | { driver: 'postgres', connectionString: string, schema: string | null }

export interface BacklogLane {
  webhook: Webhook
  count: number
  /** Unix ms of the first row; row i is due at firstDueAt + i × spacingMs. */
  firstDueAt: number
  spacingMs?: number
  /** PostgreSQL: ANALYZE the table afterwards, as a server's autovacuum soon would. @defaultValue true */
  analyze?: boolean
}

const CHUNK = 100_000

/**
 * Writes `count` pending deliveries to one webhook, all of one stored event, without going
 * through acceptEvent (a million rows that way would take minutes). Ids sort before any real
 * ULID id of today, as rows written long ago would.
 */
export async function seedBacklog (target: BacklogTarget, lane: BacklogLane): Promise<void> {
  const { webhook, count, firstDueAt } = lane
  const spacing = lane.spacingMs ?? 0
  const eventId = newId('evt')
  const tag = eventId.slice(-10)
  const body = JSON.stringify({ event: 'call.ended', event_id: eventId, workspace_id: webhook.workspaceId, timestamp: new Date(firstDueAt).toISOString(), data: samplePayload('call.ended'), metadata: {} })
  if (target.driver === 'sqlite') {
    const db = new Database(target.path)
    try {
      db.pragma('busy_timeout = 10000')
      db.prepare('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(webhook.workspaceId, eventId, 'call.ended', body, firstDueAt)
      const insert = db.prepare(`
        WITH RECURSIVE n (i) AS (SELECT @from UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @to)
        INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, url, status,
          attempt_count, max_attempts, next_attempt_at, created_at, updated_at)
        SELECT printf('dlv_0%s%010d', @tag, i), @ws, @event, 'call.ended', @webhook, @url, 'pending',
          0, @maxAttempts, @first + i * @spacing, @first, @first
        FROM n`)
      for (let from = 0; from < count; from += CHUNK) {
        insert.run({ from, to: Math.min(count, from + CHUNK), tag, ws: webhook.workspaceId, event: eventId, webhook: webhook.id, url: webhook.url, maxAttempts: webhook.maxRetries + 1, first: firstDueAt, spacing })
      }
    } finally {
      db.close()
    }
    return
  }
  const client = new pg.Client({ connectionString: target.connectionString, ...(target.schema === null ? {} : { options: `-c search_path=${target.schema}` }) })
  await client.connect()
  try {
    await client.query('INSERT INTO events (workspace_id, id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)',
      [webhook.workspaceId, eventId, 'call.ended', body, firstDueAt])
    for (let from = 0; from < count; from += CHUNK) {
      await client.query(`
        INSERT INTO deliveries (id, workspace_id, event_id, event_type, webhook_id, inline, url, status,
          attempt_count, max_attempts, next_attempt_at, created_at, updated_at)
        SELECT 'dlv_0' || $1::text || lpad(i::text, 10, '0'), $2, $3, 'call.ended', $4, false, $5, 'pending',
          0, $6, $7::bigint + i * $8::bigint, $7, $7
        FROM generate_series($9::bigint, $10::bigint - 1) AS i`,
      [tag, webhook.workspaceId, eventId, webhook.id, webhook.url, webhook.maxRetries + 1, firstDueAt, spacing, from, Math.min(count, from + CHUNK)])
    }
    if (lane.analyze !== false) await client.query('ANALYZE deliveries')
  } finally {
    await client.end()
  }
}

export interface BacklogReceiver {
  stats (): Promise<{ count: number }>
  reset (): Promise<void>
}

interface Figures { accept: number, drain: number, rssMb: number }

/** An endpoint that takes connections and never answers: every request to it hangs. */
function startBlackhole (): Promise<{ port: number, close (): void }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.resume()
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error('no port')
      resolve({
        port: address.port,
        close: () => {
          for (const socket of sockets) socket.destroy()
          server.close()
        },
      })
    })
  })
}

function hookInput (workspaceId: string, url: string, events: string[], timeoutMs: number) {
  return {
    id: newId('wh'), workspaceId, url, events, name: 'backlog bench', signingMethod: 'hmac_sha256' as const, secret: 'whsec_bench',
    scopeType: 'global' as const, personaId: null, enabled: true, jobId: null, timeoutMs, maxRetries: 3, backoffMs: 500,
  }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

function spread (values: number[]): string {
  return `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`
}

/**
 * Runs the phase and prints its table. Two stores side by side, one with an empty queue and one
 * with the backlog, measured in turns (`rounds` each) so that the noise of a shared machine falls
 * on both alike; each turn accepts and drains `events` healthy events.
 */
export async function runBacklogPhase (options: {
  dataDir: string
  databaseUrl: string | undefined
  sender: HttpSender
  receiverUrl: string
  receiver: BacklogReceiver
  backlog: number
  events: number
  rounds?: number
}): Promise<void> {
  const { sender, receiver, events } = options
  const rounds = options.rounds ?? 3
  const blackhole = await startBlackhole()
  let peakRss = 0
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 100)
  const open = async (name: string): Promise<{ store: Store, target: BacklogTarget }> => {
    if (options.databaseUrl === undefined) {
      const path = join(options.dataDir, `${name}.db`)
      return { store: await createSqliteStore({ path }), target: { driver: 'sqlite', path } }
    }
    const store = await createPostgresStore({ connectionString: options.databaseUrl, schema: name })
    return { store, target: { driver: 'postgres', connectionString: options.databaseUrl, schema: name } }
  }
  const empty = await open('empty_queue')
  const loaded = await open('backlog')
  try {
    const healthyIn = async (store: Store): Promise<string> => {
      const workspaceId = newId('ws')
      await store.createWorkspace({ id: workspaceId, name: 'backlog bench', createdAt: new Date() })
      await store.createWebhook(hookInput(workspaceId, options.receiverUrl, ['call.ended'], 5_000), new Date())
      return workspaceId
    }
    const emptySpace = await healthyIn(empty.store)
    const loadedSpace = await healthyIn(loaded.store)
    const data = samplePayload('call.ended')

    async function measure (store: Store, workspaceId: string): Promise<Figures> {
      peakRss = process.memoryUsage().rss
      await receiver.reset()
      const acceptStart = performance.now()
      for (let i = 0; i < events; i += 256) {
        await Promise.all(Array.from({ length: Math.min(256, events - i) }, () => acceptEvent(store, { workspaceId, event: 'call.ended', data })))
      }
      const accept = events / ((performance.now() - acceptStart) / 1000)
      const engine = createEngine({ shutdownGraceMs: 1_000 }, { store, sender })
      const drainStart = performance.now()
      engine.start()
      const deadline = Date.now() + 300_000
      while ((await receiver.stats()).count < events) {
        if (Date.now() > deadline) throw new Error(`the receiver got fewer than ${events} requests in 300 s`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const drain = events / ((performance.now() - drainStart) / 1000)
      await engine.stop(1_000)
      return { accept, drain, rssMb: peakRss / 2 ** 20 }
    }

    // The backlog, in a workspace of its own: what is measured is the queue, not routing over
    // more webhooks (acceptEvent reads every webhook of the event's workspace).
    const seedStart = performance.now()
    const deadSpace = newId('ws')
    const { store } = loaded
    await store.createWorkspace({ id: deadSpace, name: 'backlog bench, dead endpoints', createdAt: new Date() })
    const hanging = await store.createWebhook(hookInput(deadSpace, `http://127.0.0.1:${blackhole.port}/dead`, ['call.ended'], 600_000), new Date())
    const due = Math.ceil(options.backlog / 2)
    await seedBacklog(loaded.target, { webhook: hanging, count: due, firstDueAt: Date.now() - 3_600_000 })
    const scheduledLanes = 20
    const scheduled = options.backlog - due
    for (let i = 0; i < scheduledLanes; i++) {
      const webhook = await store.createWebhook(hookInput(deadSpace, `http://127.0.0.1:${blackhole.port}/dead-${i}`, ['call.ended'], 600_000), new Date())
      const count = Math.floor(scheduled / scheduledLanes) + (i < scheduled % scheduledLanes ? 1 : 0)
      await seedBacklog(loaded.target, { webhook, count, firstDueAt: Date.now() + 3_600_000, spacingMs: 1 })
    }
    console.log(`(seeded ${options.backlog} pending deliveries in ${((performance.now() - seedStart) / 1000).toFixed(1)} s: ${due} due to one endpoint that never answers, ${scheduled} scheduled for ${scheduledLanes} more)`)

    const without: Figures[] = []
    const withBacklog: Figures[] = []
    for (let round = 0; round < rounds; round++) {
      without.push(await measure(empty.store, emptySpace))
      withBacklog.push(await measure(loaded.store, loadedSpace))
    }
    const row = (label: string, unit: string, pick: (f: Figures) => number, ratio: boolean): string => {
      const a = without.map(pick)
      const b = withBacklog.map(pick)
      const cell = (values: number[]): string => `${median(values).toFixed(0).padStart(6)} ${unit} (${spread(values)})`.padEnd(30)
      return `${label.padEnd(26)}${cell(a)}${cell(b)}${ratio ? (median(b) / median(a)).toFixed(2) : ''}`
    }
    const stats = await store.queueStats(new Date(), new Date(0))
    console.log(`backlog: median (min–max) of ${rounds} turns of ${events} healthy events each`)
    console.log(`${''.padEnd(26)}${'empty queue'.padEnd(30)}${`${options.backlog} pending`.padEnd(30)}ratio`)
    console.log(row('accept  acceptEvent', 'ev/s', (f) => f.accept, true))
    console.log(row('drain   healthy webhook', 'dlv/s', (f) => f.drain, true))
    console.log(row('rss     peak (both stores)', 'MB', (f) => f.rssMb, false))
    console.log(`(backlog store after: ${stats.pending} pending, ${stats.due} due)`)
  } finally {
    clearInterval(sampler)
    blackhole.close()
    await empty.store.close()
    await loaded.store.close()
  }
}
