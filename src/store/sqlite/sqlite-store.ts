import { DEFAULTS } from '../../config/defaults.js'
import { claimableWork } from '../store.js'
import type { Store } from '../store.js'
import { guardStore } from '../unavailable.js'
import { createBatchGather } from '../batch-gather.js'
import { createGroupCommit } from './group-commit.js'
import { openDatabase } from './open-database.js'
import { prepareAccounts } from './queries/accounts.js'
import { prepareClaimDue } from './queries/claim-due.js'
import { prepareCompleteAttempts } from './queries/complete-attempts.js'
import { prepareDeliveries } from './queries/deliveries.js'
import { prepareEndpointHealth } from './queries/endpoint-health.js'
import { prepareLeases } from './queries/leases.js'
import { prepareListDeliveries } from './queries/list-deliveries.js'
import { prepareCliSessions } from './queries/cli-sessions.js'
import { preparePortalSessions } from './queries/portal-sessions.js'
import { prepareRateSlots } from './queries/rate-slots.js'
import { prepareRecordEvent } from './queries/record-event.js'
import { prepareStats } from './queries/stats.js'
import { prepareWebhooks, routingKeyOf } from './queries/webhooks.js'
import type { RoutingKey } from './queries/webhooks.js'
import { prepareRetention } from './queries/retention.js'
import { prepareErasure } from './queries/erasure.js'
import { prepareStoredSecrets } from './queries/stored-secrets.js'
import { createWalSync } from './wal-sync.js'
import { startCheckpointer } from './checkpointer.js'
import { isSqliteOutage } from './sqlite-errors.js'
import { createTurnBatch } from '../turn-batch.js'

export interface SqliteStoreOptions {
  /** The database file; its directory is created when missing. `:memory:` for a throwaway store. */
  path: string
  /**
   * How long a write waits for another connection's write lock before failing.
   * @defaultValue 5000
   */
  busyTimeoutMs?: number
  /** `KEJUE_COMMIT_GATHER_MS` (batch-gather.ts). @defaultValue 0 */
  commitGatherMs?: number
}

/**
 * The embedded store: one better-sqlite3 connection. Its calls are synchronous, so within this
 * process every operation is atomic with respect to the others; the Promise-returning methods
 * only adapt it to the Store contract. Several processes may share the file: writes take
 * SQLite's write lock with BEGIN IMMEDIATE.
 *
 * onWork is in-process only: another process writing to the same file is not heard (the engine
 * also polls `nextDueAt`).
 *
 * @example
 * const store = await createSqliteStore({ path: './data/webhooks.db' })
 */
export async function createSqliteStore (options: SqliteStoreOptions): Promise<Store> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULTS.store.sqliteBusyTimeoutMs
  const db = openDatabase({ path: options.path, busyTimeoutMs })
  const checkpointer = startCheckpointer(db, { ...DEFAULTS.store.sqliteCheckpoint, busyTimeoutMs })
  const accounts = prepareAccounts(db)
  const webhooks = prepareWebhooks(db)
  const deliveries = prepareDeliveries(db)
  const leases = prepareLeases(db)
  const stats = prepareStats(db)
  const recordEvents = prepareRecordEvent(db)
  const claimDue = prepareClaimDue(db)
  const endpointHealth = prepareEndpointHealth(db)
  const completeAttempts = prepareCompleteAttempts(db, endpointHealth)
  const listDeliveries = prepareListDeliveries(db)
  const cliSessions = prepareCliSessions(db)
  const retention = prepareRetention(db)
  const erasure = prepareErasure(db)
  const storedSecrets = prepareStoredSecrets(db)
  const portalSessions = preparePortalSessions(db)
  const reserveSendSlots = prepareRateSlots(db)
  const listeners = new Set<() => void>()
  let closed = false

  function notifyWork (): void {
    for (const listener of [...listeners]) {
      // A listener's failure is its own: the write it follows has committed.
      try {
        listener()
      } catch {
        // Listeners (the engine's wake-up) must not throw; nothing sensible to do here.
      }
    }
  }

  // Concurrent API requests share one commit (one fsync) instead of queueing for one each; the
  // fsync runs off the main thread (wal-sync.ts) and the engine is woken once it is done.
  const walSync = createWalSync(db)
  const recordEvent = createGroupCommit(recordEvents, (inputs, outcomes) => {
    const newWork = outcomes.some((o, i) => {
      const input = inputs[i]
      return o.ok && input !== undefined && claimableWork(input, o.value)
    })
    if (newWork) notifyWork()
  }, walSync.sync, createBatchGather(options.commitGatherMs ?? DEFAULTS.store.commitGatherMs))

  // A page-sized value: the probe must allocate a page, as a growing table does (docs/storage.md).
  const probeValue = 'x'.repeat(db.pragma('page_size', { simple: true }) as number)
  const probeInsert = db.prepare("INSERT INTO settings (key, value) VALUES ('health_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
  const probeDelete = db.prepare("DELETE FROM settings WHERE key = 'health_probe'")
  const probeWrite = db.transaction(() => {
    probeInsert.run(probeValue)
    probeDelete.run()
  })

  // The events of a turn read their routing state together (webhooks.ts, routingStates).
  const routingStateBatched = createTurnBatch(routingKeyOf, async (keys: readonly RoutingKey[]) => webhooks.routingStates(keys), { retryAlone: false })

  // Disk full, read-only or locked files reject with 503 STORE_UNAVAILABLE (sqlite-errors.ts).
  return guardStore({
    driver: 'sqlite',

    createWorkspace: async (workspace) => accounts.createWorkspace(workspace),
    getWorkspace: async (id) => accounts.getWorkspace(id),
    listWorkspaces: async () => accounts.listWorkspaces(),
    createApiKey: async (key) => accounts.createApiKey(key),
    findApiKeyByHash: async (hash) => accounts.findApiKeyByHash(hash),
    listApiKeys: async (workspaceId) => accounts.listApiKeys(workspaceId),
    revokeApiKey: async (id, at) => accounts.revokeApiKey(id, at),
    getSetting: async (key) => accounts.getSetting(key),
    setSetting: async (key, value) => accounts.setSetting(key, value),
    replaceSetting: async (key, expected, value) => accounts.replaceSetting(key, expected, value),

    createWebhook: async (webhook, now) => webhooks.createWebhook(webhook, now),
    getWebhook: async (workspaceId, id) => webhooks.getWebhook(workspaceId, id),
    listWebhooks: async (workspaceId) => webhooks.listWebhooks(workspaceId),
    routeWebhooks: async (workspaceId, filters, personaId) => webhooks.routeWebhooks(workspaceId, filters, personaId),
    // routingStates answers every key it is asked; the fallback only satisfies the type.
    routingState: async (workspaceId, jobId) => await routingStateBatched({ workspaceId, jobId }) ?? webhooks.routingState(workspaceId, jobId),
    updateWebhook: async (workspaceId, id, patch, now) => webhooks.updateWebhook(workspaceId, id, patch, now),
    deleteWebhook: async (workspaceId, id, now, reason) => webhooks.deleteWebhook(workspaceId, id, now, reason),
    webhookStats: async (workspaceId, ids) => stats.webhookStats(workspaceId, ids),

    createCall: async (call, inlineWebhooks) => webhooks.createCall(call, inlineWebhooks),
    listInlineWebhooks: async (workspaceId, jobId) => webhooks.listInlineWebhooks(workspaceId, jobId),

    insertCliSession: async (session) => cliSessions.insertCliSession(session),
    getCliSession: async (workspaceId, id) => cliSessions.getCliSession(workspaceId, id),
    deleteCliSession: async (id) => cliSessions.deleteCliSession(id),
    heartbeatCliSessions: async (hubId, now) => cliSessions.heartbeatCliSessions(hubId, now),
    listStaleCliSessions: async (before) => cliSessions.listStaleCliSessions(before),

    recordEvent: async (input) => {
      if (closed) throw new Error('the store is closed')
      return await recordEvent.submit(input)
    },
    getEvent: async (workspaceId, eventId) => deliveries.getEvent(workspaceId, eventId),
    getDelivery: async (workspaceId, id) => deliveries.getDelivery(workspaceId, id),
    listDeliveries: async (filter) => listDeliveries(filter),
    listAttempts: async (deliveryId) => deliveries.attemptsOf([deliveryId]).get(deliveryId) ?? [],
    attemptsOf: async (deliveryIds) => deliveries.attemptsOf(deliveryIds),
    retryDelivery: async (workspaceId, id, now) => {
      const delivery = deliveries.retryDelivery(workspaceId, id, now)
      if (delivery !== null) notifyWork()
      return delivery
    },

    pruneDeliveries: async (before, limit) => retention.pruneDeliveries(before, limit),
    pruneEvents: async (before, after, limit) => retention.pruneEvents(before, after, limit),
    discardParked: async (before, limit, now) => retention.discardParked(before, limit, now),
    findEventsToErase: async (workspaceId, match) => erasure.findEventsToErase(workspaceId, match),
    eraseEvents: async (input) => erasure.eraseEvents(input),
    getErasure: async (workspaceId, id) => erasure.getErasure(workspaceId, id),
    listStoredSecrets: async (afterId, limit) => storedSecrets.listStoredSecrets(afterId, limit),
    rewriteStoredSecrets: async (items) => storedSecrets.rewriteStoredSecrets(items),

    claimDue: async (claimOptions) => claimDue(claimOptions),
    renewLeases: async (items, leaseMs, now) => leases.renewLeases(items, leaseMs, now),
    releaseLeases: async (items) => leases.releaseLeases(items),
    completeAttempts: async (results, now, health) => {
      const result = completeAttempts(results, now, health)
      // Ordered deliveries made due, or held first attempts released by a closing breaker, may
      // be another engine's (or this one's) next work.
      if (result.released > 0 || result.health.length > 0) notifyWork()
      return result
    },
    takeBreakerProbe: async (webhookId, now, retryAt) => endpointHealth.takeBreakerProbe(webhookId, now, retryAt),
    holdFirstAttempts: async (webhookId, leased, until, now) => endpointHealth.holdFirstAttempts(webhookId, leased, until, now),
    parkDeliveries: async (items, now) => endpointHealth.parkDeliveries(items, now),
    disableWebhook: async (workspaceId, id, reason, now) => endpointHealth.disableWebhook(workspaceId, id, reason, now),
    enableWebhook: async (workspaceId, id, replay, now) => {
      const webhook = endpointHealth.enableWebhook(workspaceId, id, replay, now)
      if (webhook !== null) notifyWork()
      return webhook
    },
    recoverDeliveries: async (input) => {
      const result = endpointHealth.recoverDeliveries(input)
      if (result.requeued > 0) notifyWork()
      return result
    },
    reserveSendSlots: async (webhookId, count, intervalMs, now) => reserveSendSlots(webhookId, count, intervalMs, now),
    nextDueAt: async () => stats.nextDueAt(),
    queueStats: async (now, failedSince) => stats.queueStats(now, failedSince),
    workspaceQueueStats: async (workspaceId, failedSince, webhookIds) => stats.workspaceQueueStats(workspaceId, failedSince, webhookIds),
    attemptSamples: async (webhookId, from, to) => stats.attemptSamples(webhookId, from, to),

    createPortalSession: async (session) => portalSessions.createPortalSession(session),
    findPortalSessionByHash: async (hash) => portalSessions.findPortalSessionByHash(hash),
    revokePortalSession: async (workspaceId, id, at) => portalSessions.revokePortalSession(workspaceId, id, at),

    onWork (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },

    ping: async () => {
      if (closed) return false
      // A committed write (appended to the WAL and synced), so a full disk or a read-only file
      // fails it; a SELECT would still succeed.
      try {
        probeWrite.immediate()
        return true
      } catch {
        return false
      }
    },
    close: async () => {
      if (closed) return
      closed = true
      recordEvent.flush()
      // Routing reads asked before close run first (their batch waits for the next setImmediate).
      await new Promise((resolve) => setImmediate(resolve))
      await walSync.close()
      await checkpointer.close()
      listeners.clear()
      db.close()
    },
  }, isSqliteOutage)
}
