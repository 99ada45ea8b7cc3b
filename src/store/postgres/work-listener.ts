/**
 * Cross-process wake-up: after recordEvent or retryDelivery commits new work, the store announces
 * it with `pg_notify(WORK_CHANNEL, <schema>)` in a statement of its own (createWorkAnnouncer);
 * every store instance keeps one dedicated connection that LISTENs and calls the store's onWork
 * listeners. Notifications are only a hint (the engine also polls nextDueAt), so a lost one costs
 * latency, not deliveries; after a reconnect the listeners are called once to cover the gap.
 *
 * Why not NOTIFY inside the event's own transaction: PostgreSQL serializes the commits of all
 * transactions that notified (a lock on the notification queue is held through the commit's WAL
 * flush), so every event would wait for the previous one's fsync. Announcing after the commit,
 * coalesced to at most one NOTIFY in flight per store, lets events commit in parallel.
 */
import { setTimeout as delay } from 'node:timers/promises'
import pg from 'pg'
import type { ResolvedPostgresStoreOptions } from './pool.js'
import { clientConfig } from './pool.js'

export const WORK_CHANNEL = 'kejue_work'

// Reconnect delays: start quick, back off to a few seconds while the database is down.
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5_000
// A LISTEN connection only receives, so one that went silent (no FIN: a host or network gone)
// would never fail: it asks the server something this often, and a query that gets no answer
// within the query timeout (pool.ts) drops it and reconnects.
const LISTENER_PING_MS = 10_000
const CLOSE_WAIT_MS = 2_000

export interface WorkListener {
  close (): Promise<void>
}

/**
 * Announces committed work to every process. Calls while a NOTIFY is in flight are folded into one
 * more NOTIFY after it: a listener woken by it sees everything committed before the call.
 */
export function createWorkAnnouncer (pool: pg.Pool, schema: string | null): () => void {
  let sending = false
  let again = false
  async function send (): Promise<void> {
    sending = true
    do {
      again = false
      // A hint: while the database is away the engines poll, so a failure is dropped.
      await pool.query({ name: 'kejue-announce-work', text: 'SELECT pg_notify($1, $2)', values: [WORK_CHANNEL, schema ?? ''] }).catch(() => {})
    } while (again)
    sending = false
  }
  return () => {
    if (sending) again = true
    else void send()
  }
}

/**
 * Starts listening; resolves once LISTEN is active (or the first try failed — it then keeps
 * retrying in the background, as it does after any drop).
 */
export async function startWorkListener (
  options: ResolvedPostgresStoreOptions,
  onNotify: () => void,
  pingMs = LISTENER_PING_MS,
): Promise<WorkListener> {
  // Notifications carry the schema so stores in other schemas of the same database ignore them.
  const payload = options.schema ?? ''
  let client: pg.Client | null = null
  let closed = false
  let timer: NodeJS.Timeout | null = null
  let delayMs = RECONNECT_MIN_MS
  // The active connection's ping (only it has one).
  let ping: NodeJS.Timeout | null = null

  function stopPing (): void {
    if (ping !== null) clearInterval(ping)
    ping = null
  }

  function scheduleReconnect (): void {
    if (closed || timer !== null) return
    timer = setTimeout(() => {
      timer = null
      void connect(true)
    }, delayMs)
    timer.unref()
    delayMs = Math.min(delayMs * 2, RECONNECT_MAX_MS)
  }

  async function connect (isReconnect: boolean): Promise<void> {
    // Named per schema, so an operator (or a test) can find this session in pg_stat_activity.
    const next = new pg.Client({ ...clientConfig(options), application_name: `kejue-webhooks listener ${payload}`.trim() })
    let dropped = false
    const drop = (): void => {
      if (dropped) return
      dropped = true
      if (client === next) {
        client = null
        stopPing()
      }
      next.end().catch(() => {})
      scheduleReconnect()
    }
    next.on('error', drop)
    next.on('end', drop)
    next.on('notification', (message) => {
      if (message.channel === WORK_CHANNEL && (message.payload ?? '') === payload) onNotify()
    })
    try {
      await next.connect()
      await next.query(`LISTEN ${WORK_CHANNEL}`)
    } catch {
      drop()
      return
    }
    if (closed) {
      dropped = true
      await next.end().catch(() => {})
      return
    }
    client = next
    delayMs = RECONNECT_MIN_MS
    ping = setInterval(() => { next.query('SELECT 1').catch(drop) }, pingMs)
    ping.unref()
    if (isReconnect) onNotify()
  }

  await connect(false)

  return {
    async close () {
      closed = true
      if (timer !== null) clearTimeout(timer)
      timer = null
      stopPing()
      const current = client
      client = null
      if (current !== null) {
        current.removeAllListeners('end')
        current.removeAllListeners('error')
        current.on('error', () => {})
        // Bounded: ending a connection that went silent waits for an answer that never comes; its
        // socket is then destroyed (pg has no public way: its connection's stream).
        const ended = await Promise.race([current.end().then(() => true, () => true), delay(CLOSE_WAIT_MS, false, { ref: false })])
        if (!ended) (current as unknown as { connection?: { stream?: { destroy (): void } } }).connection?.stream?.destroy()
      }
    },
  }
}
