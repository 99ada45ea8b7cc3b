/**
 * Cross-process wake-up: recordEvent and retryDelivery run `pg_notify(WORK_CHANNEL, <schema>)` in
 * their transaction, so the notification goes out exactly when the work becomes visible. Every
 * store instance keeps one dedicated connection that LISTENs and calls the store's onWork
 * listeners. Notifications are only a hint (the engine also polls nextDueAt), so a lost one costs
 * latency, not deliveries; after a reconnect the listeners are called once to cover the gap.
 */
import pg from 'pg'
import type { ResolvedPostgresStoreOptions } from './pool.js'
import { clientConfig } from './pool.js'

export const WORK_CHANNEL = 'kejue_work'

// Reconnect delays: start quick, back off to a few seconds while the database is down.
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5_000

export interface WorkListener {
  close (): Promise<void>
}

/**
 * Starts listening; resolves once LISTEN is active (or the first try failed — it then keeps
 * retrying in the background, as it does after any drop).
 */
export async function startWorkListener (
  options: ResolvedPostgresStoreOptions,
  onNotify: () => void,
): Promise<WorkListener> {
  // Notifications carry the schema so stores in other schemas of the same database ignore them.
  const payload = options.schema ?? ''
  let client: pg.Client | null = null
  let closed = false
  let timer: NodeJS.Timeout | null = null
  let delayMs = RECONNECT_MIN_MS

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
      if (client === next) client = null
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
    if (isReconnect) onNotify()
  }

  await connect(false)

  return {
    async close () {
      closed = true
      if (timer !== null) clearTimeout(timer)
      timer = null
      const current = client
      client = null
      if (current !== null) {
        current.removeAllListeners('end')
        current.removeAllListeners('error')
        current.on('error', () => {})
        await current.end().catch(() => {})
      }
    },
  }
}
