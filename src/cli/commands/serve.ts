/**
 * `kejue-webhooks serve` (what `npm start` runs): the API and the delivery engine in one
 * process, on 127.0.0.1 by default. SIGTERM/SIGINT stop taking requests, let attempts in flight
 * finish or hand them back (KEJUE_SHUTDOWN_GRACE_MS), close the store, and exit 0.
 */
import type { Command } from 'commander'
import { buildApp } from '../../api/app.js'
import { startServer } from '../../api/server.js'
import { resolveConfig } from '../../config/load.js'
import { SETTINGS } from '../../config/schema.js'
import type { ResolvedConfig, SettingDefinition } from '../../config/schema.js'
import { createEngine } from '../../delivery/engine.js'
import { attachHandoff } from '../../delivery/handoff.js'
import { startThreadedHttpClient } from '../../delivery/sender-thread.js'
import { createHttpClient } from '../../delivery/http-client.js'
import { createRetention } from '../../delivery/retention.js'
import { coerceError } from '../../errors.js'
import { createMetrics } from '../../observability/metrics.js'
import { createSandbox } from '../../simulator/sandbox.js'
import { openStore } from '../../store/open-store.js'
import { postgresOpenFailure } from '../../store/postgres/pg-errors.js'
import { createLogger } from '../../util/logger.js'
import type { Logger } from '../../util/logger.js'
import type { Store } from '../../store/store.js'
import { USER_AGENT } from '../../util/version.js'
import { banner, ensureOperatorAdminKey, firstStartElsewhere, markKeysShown, prepareFirstStart } from '../first-start.js'

/** Flag values as commander parses them, keyed by each setting's `flag` (src/config/schema.ts). */
export type ServeFlags = Record<string, string | boolean | undefined>

/** Config from env and flags, or null after printing why it is unusable. */
export function loadConfigOrReport (flags: Record<string, string | boolean | undefined>): ResolvedConfig | null {
  try {
    return resolveConfig({ env: process.env, flags })
  } catch (err) {
    const error = coerceError(err) as Error & { code?: string }
    if (error.code !== 'CONFIG_INVALID') throw err
    process.stderr.write(`kejue-webhooks: ${error.message}\n`)
    return null
  }
}

/**
 * The store, or null after printing why it cannot be opened with this configuration (a key that
 * cannot decrypt the stored secrets, say: docs/storage.md, "Encryption at rest") or why the
 * database cannot be reached.
 */
export async function openStoreOrReport (config: ResolvedConfig, logger?: Logger): Promise<Store | null> {
  try {
    return await openStore({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, commitGatherMs: config.commitGatherMs, databaseQueryTimeoutMs: config.databaseQueryTimeoutMs, encryptionKey: config.encryptionKey, logger })
  } catch (err) {
    const error = coerceError(err) as Error & { code?: string }
    const reason = postgresOpenFailure(error)
    if (config.databaseUrl !== null && reason !== null) {
      // Where, without the user name or password; exit 1, for a supervisor to start it again.
      const url = new URL(config.databaseUrl)
      process.stderr.write(`kejue-webhooks: cannot open PostgreSQL at ${url.host}${url.pathname} (${reason}): check KEJUE_DATABASE_URL and that the server is up\n`)
      return null
    }
    if (error.code !== 'CONFIG_INVALID') throw err
    process.stderr.write(`kejue-webhooks: ${error.message}\n`)
    return null
  }
}

export async function runServe (flags: ServeFlags): Promise<void> {
  const config = loadConfigOrReport({ ...flags })
  if (config === null) {
    process.exitCode = 1
    return
  }
  const logger = createLogger({ level: config.logLevel })
  const store = await openStoreOrReport(config, logger)
  if (store === null) {
    logger.flush()
    process.exitCode = 1
    return
  }
  const metrics = createMetrics({ store, perWebhook: config.metricsPerWebhook })
  const senderOptions = {
    allowPrivateNetworks: config.allowPrivateNetworks,
    userAgent: USER_AGENT,
    maxResponseBytes: config.engine.responseExcerptBytes,
    // A pool per webhook as large as its in-flight cap (docs/delivery.md, "Isolation").
    connections: config.engine.maxInFlightPerWebhook,
  }
  // The HTTP work of attempts on a thread of its own unless turned off (docs/scaling.md, "Sender thread").
  const sender = config.role === 'api'
    ? null
    : config.engine.senderThread
      ? await startThreadedHttpClient(senderOptions, {
        nice: config.engine.senderThreadNice,
        onStopped: (err) => { logger.error({ err }, 'sender thread stopped: a new one sends its attempts in flight again') },
        onFallback: (err) => { logger.warn({ err }, 'sender thread could not start: attempts are sent from the main thread') },
      })
      : createHttpClient(senderOptions)
  const e = config.engine
  const engine = sender === null
    ? undefined
    : createEngine({
      maxInFlight: e.maxInFlight,
      maxInFlightPerWebhook: e.maxInFlightPerWebhook,
      claimBatch: e.claimBatch,
      leaseMs: e.leaseMs,
      shutdownGraceMs: e.shutdownGraceMs,
      ...config.health,
    }, { store, sender, logger, metrics })

  // Retention runs beside the engine (docs/storage.md, "Retention"); KEJUE_RETENTION_DAYS=0 turns it off.
  const retention = engine === undefined ? undefined : createRetention({ retentionDays: config.retentionDays }, { store, logger })

  const parts = { logger, retention, sender }
  if (config.role === 'worker') {
    // A worker serves no API: it claims deliveries from the shared store until stopped.
    stopOnSignals(async () => {
      await engine?.stop(e.shutdownGraceMs)
      await store.close()
    }, parts)
    engine?.start()
    retention?.start()
    process.stdout.write(`kejue-webhooks worker started (store: ${store.driver}, pid ${process.pid})\n`)
    logger.info({ store: store.driver, role: config.role }, 'worker started')
  } else {
    // Fresh deliveries go to this process's engine already leased (delivery/handoff.ts).
    if (engine !== undefined) attachHandoff(store, engine.handoff)
    // The sandbox's simulator (docs/sandbox.md): only with --simulate or KEJUE_SIMULATOR=true.
    const sandbox = config.simulator.enabled
      ? createSandbox({ speed: config.simulator.speed, seed: config.simulator.seed, outcomeWeights: config.simulator.outcomeWeights }, {
        store,
        onError: (err) => { logger.error({ err }, 'simulator error') },
      })
      : undefined
    // Before listening: a script that waits for the port and then uses KEJUE_ADMIN_KEY finds it.
    if (config.adminKey !== null) await ensureOperatorAdminKey(store, config.adminKey)
    const app = await buildApp({ store, config, logger, metrics, sandbox })
    let server
    try {
      server = await startServer({ host: config.host, port: config.port, shutdownGraceMs: e.shutdownGraceMs }, { app, store, logger, engine })
    } catch (err) {
      const error = coerceError(err)
      process.stderr.write(`kejue-webhooks: cannot listen on ${config.host}:${config.port}: ${error.message}\n`)
      await app.close().catch(() => undefined)
      await sender?.close().catch(() => undefined)
      await store.close().catch(() => undefined)
      process.exitCode = 1
      return
    }
    const started = server
    stopOnSignals(async () => {
      sandbox?.stop()
      await started.close()
    }, parts)
    engine?.start()
    retention?.start()
    // Once listening: a start that cannot listen (the port taken) leaves the first start to the next.
    const firstStart = await prepareFirstStart(store, { adminKey: config.adminKey })
    process.stdout.write(banner(server.url, firstStart, firstStart === null && await firstStartElsewhere(store)))
    if (firstStart !== null) await markKeysShown(store)
    if (sandbox !== undefined) process.stdout.write(`Simulator on: calls and campaigns are simulated, time runs ${config.simulator.speed}× (docs/sandbox.md)\n`)
    logger.info({ url: server.url, store: store.driver, role: config.role, allowPrivateNetworks: config.allowPrivateNetworks, commitGatherMs: config.commitGatherMs }, 'listening')
  }
}

/**
 * SIGTERM/SIGINT: stop retention, then `close` (the server or the engine), then the sender, and
 * exit 0; a second signal exits 1 at once. Installed before the process says it is up (banner,
 * "worker started"), so a signal sent as soon as it is never meets Node's default and kills it.
 */
function stopOnSignals (close: () => Promise<void>, parts: { logger: Logger, retention?: { stop: () => Promise<void> }, sender: { close: () => Promise<void> } | null }): void {
  const { logger, retention, sender } = parts
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the grace period.
      logger.warn({ signal }, 'second signal, exiting now')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    void (retention?.stop() ?? Promise.resolve())
      .then(close)
      .then(() => sender?.close())
      .catch((err: unknown) => { logger.error({ err: coerceError(err) }, 'shutdown failed') })
      .finally(() => {
        logger.info('stopped')
        logger.flush()
        process.exit(0)
      })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

/** The help line of a setting's flag: what it does, its env name, and its default when it has one. */
function flagHelp (setting: SettingDefinition): string {
  const env = setting.env[0] ?? ''
  const value = setting.defaultValue
  const shown = value === null || typeof value === 'object' || value === false ? '' : `, default ${String(value)}`
  return `${setting.description} (${env}${shown})`
}

export function registerServe (program: Command): void {
  const command = program
    .command('serve')
    .description('run the API and the delivery engine (what `npm start` runs)')
  // Every flag comes from SETTINGS, the one table of settings, so none is typed twice.
  for (const setting of SETTINGS) {
    if (setting.flagSyntax !== undefined) command.option(setting.flagSyntax, flagHelp(setting))
  }
  command
    .action(async (flags: ServeFlags) => {
      await runServe(flags)
    })
}
