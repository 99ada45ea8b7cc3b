/**
 * The PostgreSQL Store: many service processes share one database. Claims use FOR UPDATE SKIP
 * LOCKED, leases carry fencing tokens, and LISTEN/NOTIFY wakes every process when work arrives.
 * See docs/scaling.md for how these fit together.
 */
import { DEFAULTS } from '../../config/defaults.js'
import { claimableWork } from '../store.js'
import type { Store } from '../store.js'
import { guardStore } from '../unavailable.js'
import { migrate } from './migrate.js'
import { isPostgresOutage } from './pg-errors.js'
import type { PostgresStoreOptions, ResolvedPostgresStoreOptions } from './pool.js'
import { createPool, ENGINE_SESSION_SETTINGS, resolvePostgresOptions } from './pool.js'
import * as accounts from './queries/accounts.js'
import { claimDue } from './queries/claim-due.js'
import { completeAttempts } from './queries/complete-attempts.js'
import * as deliveries from './queries/deliveries.js'
import * as endpointHealth from './queries/endpoint-health.js'
import { releaseLeases, renewLeases } from './queries/leases.js'
import * as cliSessions from './queries/cli-sessions.js'
import { attemptSamples, nextDueAt, queueStats, workspaceQueueStats } from './queries/queue-stats.js'
import { reserveSendSlots } from './queries/rate-slots.js'
import * as portalSessions from './queries/portal-sessions.js'
import { createRecordEventBatcher } from './queries/record-event.js'
import * as webhooks from './queries/webhooks.js'
import * as retention from './queries/retention.js'
import * as erasure from './queries/erasure.js'
import * as storedSecrets from './queries/stored-secrets.js'
import { createTurnBatch } from '../turn-batch.js'
import { createBatchGather } from '../batch-gather.js'
import { createWorkAnnouncer, startWorkListener } from './work-listener.js'

/**
 * Opens the pool, applies pending migrations (safe when several processes start at once) and
 * starts listening for work. Once open, it rides through lost connections and database
 * restarts: calls made while the database is unreachable reject with 503 STORE_UNAVAILABLE, and
 * the pool and the listener reconnect on their own (docs/storage.md).
 * @example const store = await createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1/kejue' })
 */
export async function createPostgresStore (options: PostgresStoreOptions): Promise<Store> {
  const resolved = resolvePostgresOptions(options)
  const { schema } = resolved
  await migrateOnce(resolved)
  const pool = createPool(resolved)

  // Lease bookkeeping, settlements and the engine's walks of the due index: see
  // ENGINE_SESSION_SETTINGS. Events are always flushed before they are acknowledged (the main
  // pool). Later flushes cover earlier WAL, so no durable write depends on a lost one.
  const leasePool = createPool({ ...resolved, poolSize: Math.max(2, Math.ceil(resolved.poolSize / 2)) }, ENGINE_SESSION_SETTINGS)
  const recordEventBatcher = createRecordEventBatcher(pool, createBatchGather(options.commitGatherMs ?? DEFAULTS.store.commitGatherMs))
  // Routing's reads per event (the call, the routes version, the candidates when not cached),
  // shared by the events of a turn (turn-batch.ts).
  const getCallBatched = createTurnBatch(webhooks.callKeyOf, async (keys) => await webhooks.getCalls(pool, keys))
  const routeBatched = createTurnBatch(webhooks.routeKeyOf, async (keys) => await webhooks.routeEach(pool, keys))
  const routesVersionBatched = createTurnBatch(() => '', async () => new Map([['', await webhooks.routesVersion(pool)]]))
  const announceWork = createWorkAnnouncer(pool, schema)
  const listeners = new Set<() => void>()
  // Several notifications in one turn of the event loop wake the listeners once.
  let wakeScheduled = false
  const wake = (): void => {
    if (wakeScheduled) return
    wakeScheduled = true
    setImmediate(() => {
      wakeScheduled = false
      for (const listener of [...listeners]) {
        try {
          listener()
        } catch {
          // A listener's failure is its own; the others still run.
        }
      }
    })
  }
  const workListener = await startWorkListener(resolved, wake)
  let closed = false

  return guardStore({
    driver: 'postgres',

    createWorkspace: async (workspace) => await accounts.createWorkspace(pool, workspace),
    getWorkspace: async (id) => await accounts.getWorkspace(pool, id),
    listWorkspaces: async () => await accounts.listWorkspaces(pool),
    createApiKey: async (key) => await accounts.createApiKey(pool, key),
    findApiKeyByHash: async (hash) => await accounts.findApiKeyByHash(pool, hash),
    listApiKeys: async (workspaceId) => await accounts.listApiKeys(pool, workspaceId),
    revokeApiKey: async (id, at) => await accounts.revokeApiKey(pool, id, at),
    getSetting: async (key) => await accounts.getSetting(pool, key),
    setSetting: async (key, value) => await accounts.setSetting(pool, key, value),
    replaceSetting: async (key, expected, value) => await accounts.replaceSetting(pool, key, expected, value),

    createWebhook: async (webhook, now) => await webhooks.createWebhook(pool, webhook, now),
    getWebhook: async (workspaceId, id) => await webhooks.getWebhook(pool, workspaceId, id),
    listWebhooks: async (workspaceId) => await webhooks.listWebhooks(pool, workspaceId),
    routeWebhooks: async (workspaceId, filters, personaId) => await routeBatched({ workspaceId, filters, personaId }) ?? [],
    // Both batched per turn: together they cost the events of a turn two queries. One routes
    // version for all workspaces (migration 0011): the workspace does not change its read.
    async routingState (workspaceId, jobId) {
      const [version, call] = await Promise.all([
        routesVersionBatched(workspaceId),
        jobId === null ? null : getCallBatched({ workspaceId, jobId }),
      ])
      return { routesVersion: version ?? 0, call: call ?? null }
    },
    updateWebhook: async (workspaceId, id, patch, now) => await webhooks.updateWebhook(pool, workspaceId, id, patch, now),
    deleteWebhook: async (workspaceId, id, now, reason) => await webhooks.deleteWebhook(pool, workspaceId, id, now, reason),
    webhookStats: async (workspaceId, ids) => await webhooks.webhookStats(pool, workspaceId, ids),

    createCall: async (call, inline) => await webhooks.createCall(pool, call, inline),
    listInlineWebhooks: async (workspaceId, jobId) => await webhooks.listInlineWebhooks(pool, workspaceId, jobId),

    insertCliSession: async (session) => await cliSessions.insertCliSession(pool, session),
    getCliSession: async (workspaceId, id) => await cliSessions.getCliSession(pool, workspaceId, id),
    deleteCliSession: async (id) => await cliSessions.deleteCliSession(pool, id),
    heartbeatCliSessions: async (hubId, now) => await cliSessions.heartbeatCliSessions(pool, hubId, now),
    listStaleCliSessions: async (before) => await cliSessions.listStaleCliSessions(pool, before),

    async recordEvent (input) {
      const result = await recordEventBatcher.record(input)
      // Local listeners do not wait for the notification's round trip (or a listener reconnect).
      if (claimableWork(input, result)) {
        wake()
        announceWork()
      }
      return result
    },
    getEvent: async (workspaceId, eventId) => await deliveries.getEvent(pool, workspaceId, eventId),
    getDelivery: async (workspaceId, id) => await deliveries.getDelivery(pool, workspaceId, id),
    listDeliveries: async (filter) => await deliveries.listDeliveries(pool, filter),
    listAttempts: async (deliveryId) => (await deliveries.attemptsOf(pool, [deliveryId])).get(deliveryId) ?? [],
    attemptsOf: async (deliveryIds) => await deliveries.attemptsOf(pool, deliveryIds),
    async retryDelivery (workspaceId, id, now) {
      const delivery = await deliveries.retryDelivery(pool, workspaceId, id, now)
      if (delivery !== null) {
        wake()
        announceWork()
      }
      return delivery
    },

    pruneDeliveries: async (before, limit) => await retention.pruneDeliveries(pool, before, limit),
    pruneEvents: async (before, after, limit) => await retention.pruneEvents(pool, before, after, limit),
    discardParked: async (before, limit, now) => await retention.discardParked(pool, before, limit, now),
    findEventsToErase: async (workspaceId, match) => await erasure.findEventsToErase(pool, workspaceId, match),
    eraseEvents: async (input) => { await erasure.eraseEvents(pool, input) },
    getErasure: async (workspaceId, id) => await erasure.getErasure(pool, workspaceId, id),
    listStoredSecrets: async (afterId, limit) => await storedSecrets.listStoredSecrets(pool, afterId, limit),
    rewriteStoredSecrets: async (items) => await storedSecrets.rewriteStoredSecrets(pool, items),

    claimDue: async (claim) => await claimDue(leasePool, claim),
    renewLeases: async (items, leaseMs, now) => await renewLeases(leasePool, items, leaseMs, now),
    releaseLeases: async (items) => await releaseLeases(leasePool, items),
    async completeAttempts (results, now, health) {
      const result = await completeAttempts(leasePool, results, now, health)
      // Ordered deliveries made due (docs/delivery.md, "Per-call ordering"), or what a closing
      // breaker held, may be any engine's next work.
      if (result.released > 0 || result.health.length > 0) {
        wake()
        announceWork()
      }
      return result
    },
    takeBreakerProbe: async (webhookId, now, retryAt) => await endpointHealth.takeBreakerProbe(leasePool, webhookId, now, retryAt),
    holdFirstAttempts: async (webhookId, leased, until, now) => await endpointHealth.holdFirstAttempts(leasePool, webhookId, leased, until, now),
    parkDeliveries: async (items, now) => await endpointHealth.parkDeliveries(leasePool, items, now),
    disableWebhook: async (workspaceId, id, reason, now) => await endpointHealth.disableWebhook(pool, workspaceId, id, reason, now),
    async enableWebhook (workspaceId, id, replay, now) {
      const webhook = await endpointHealth.enableWebhook(pool, workspaceId, id, replay, now)
      if (webhook !== null) {
        wake()
        announceWork()
      }
      return webhook
    },
    async recoverDeliveries (input) {
      const result = await endpointHealth.recoverDeliveries(pool, input)
      if (result.requeued > 0) {
        wake()
        announceWork()
      }
      return result
    },
    reserveSendSlots: async (webhookId, count, intervalMs, now) => await reserveSendSlots(pool, webhookId, count, intervalMs, now),
    nextDueAt: async () => await nextDueAt(leasePool),
    queueStats: async (now, failedSince) => await queueStats(pool, now, failedSince),
    workspaceQueueStats: async (workspaceId, failedSince, webhookIds) => await workspaceQueueStats(pool, workspaceId, failedSince, webhookIds),
    attemptSamples: async (webhookId, from, to) => await attemptSamples(pool, webhookId, from, to),

    createPortalSession: async (session) => await portalSessions.createPortalSession(pool, session),
    findPortalSessionByHash: async (hash) => await portalSessions.findPortalSessionByHash(pool, hash),
    revokePortalSession: async (workspaceId, id, at) => await portalSessions.revokePortalSession(pool, workspaceId, id, at),

    onWork (listener) {
      const own = (): void => listener()
      listeners.add(own)
      return () => { listeners.delete(own) }
    },

    async ping () {
      // A real, committed write: a read-only server or a full disk fails it, a SELECT would not.
      try {
        await pool.query({
          name: 'kejue-health-probe',
          text: `INSERT INTO settings (key, value) VALUES ('health_probe', $1)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
          values: [String(Date.now())],
        })
        return true
      } catch {
        return false
      }
    },

    async close () {
      if (closed) return
      closed = true
      listeners.clear()
      // Events waiting for their batch (a commit gather) are written before the pool ends.
      await recordEventBatcher.flush()
      await workListener.close()
      await Promise.all([pool.end(), leasePool.end()])
    },
  }, isPostgresOutage)
}

/**
 * Applies pending migrations and closes again: for `kejue-webhooks migrate`, and for deploys that
 * migrate before starting the service. Returns the versions applied now.
 */
export async function migratePostgres (options: PostgresStoreOptions): Promise<number[]> {
  return await migrateOnce(resolvePostgresOptions(options))
}

/**
 * On a connection of its own without statement timeouts: a migration may build an index over
 * millions of rows, and waits for other processes' migrations (migrate.ts) as long as they take.
 */
async function migrateOnce (resolved: ResolvedPostgresStoreOptions): Promise<number[]> {
  const pool = createPool({ ...resolved, poolSize: 1, queryTimeoutMs: 0 })
  try {
    return await migrate(pool, resolved.schema)
  } finally {
    await pool.end().catch(() => {})
  }
}
