/**
 * `kejue-webhooks serve` (what `npm start` runs): the API and the delivery engine in one
 * process, on 127.0.0.1 by default. SIGTERM/SIGINT stop taking requests, let attempts in flight
 * finish or hand them back (KEJUE_SHUTDOWN_GRACE_MS), close the store, and exit 0.
 */
import type { Command } from 'commander'
import { buildApp } from '../../api/app.js'
import { startServer } from '../../api/server.js'
import { resolveConfig } from '../../config/load.js'
import type { ResolvedConfig } from '../../config/schema.js'
import { createEngine } from '../../delivery/engine.js'
import { createHttpClient } from '../../delivery/http-client.js'
import { coerceError } from '../../errors.js'
import { createMetrics } from '../../observability/metrics.js'
import { createSandbox } from '../../simulator/sandbox.js'
import { openStore } from '../../store/open-store.js'
import { createLogger } from '../../util/logger.js'
import { USER_AGENT } from '../../util/version.js'
import { banner, markKeysShown, prepareFirstStart } from '../first-start.js'

export interface ServeFlags {
  port?: string
  host?: string
  dataDir?: string
  databaseUrl?: string
  allowPrivateNetworks?: boolean
  logLevel?: string
  role?: string
  simulate?: boolean
  simulateSpeed?: string
  simulateSeed?: string
  simulateOutcomes?: string
}

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

export async function runServe (flags: ServeFlags): Promise<void> {
  const config = loadConfigOrReport({ ...flags })
  if (config === null) {
    process.exitCode = 1
    return
  }
  const logger = createLogger({ level: config.logLevel })
  const store = await openStore({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir })
  const metrics = createMetrics({ store })
  const sender = config.role === 'api'
    ? null
    : createHttpClient({
      allowPrivateNetworks: config.allowPrivateNetworks,
      userAgent: USER_AGENT,
      maxResponseBytes: config.engine.responseExcerptBytes,
      // A pool per webhook as large as its in-flight cap (docs/delivery.md, "Isolation").
      connections: config.engine.maxInFlightPerWebhook,
    })
  const e = config.engine
  const engine = sender === null
    ? undefined
    : createEngine({
      maxInFlight: e.maxInFlight,
      maxInFlightPerWebhook: e.maxInFlightPerWebhook,
      claimBatch: e.claimBatch,
      leaseMs: e.leaseMs,
      shutdownGraceMs: e.shutdownGraceMs,
    }, { store, sender, logger, metrics })

  let close: () => Promise<void>
  if (config.role === 'worker') {
    // A worker serves no API: it claims deliveries from the shared store until stopped.
    engine?.start()
    process.stdout.write(`kejue-webhooks worker started (store: ${store.driver}, pid ${process.pid})\n`)
    logger.info({ store: store.driver, role: config.role }, 'worker started')
    close = async () => {
      await engine?.stop(e.shutdownGraceMs)
      await store.close()
    }
  } else {
    const firstStart = await prepareFirstStart(store, { adminKey: config.adminKey })
    // The sandbox's simulator (docs/sandbox.md): only with --simulate or KEJUE_SIMULATOR=true.
    const sandbox = config.simulator.enabled
      ? createSandbox({ speed: config.simulator.speed, seed: config.simulator.seed, outcomeWeights: config.simulator.outcomeWeights }, {
        store,
        onError: (err) => { logger.error({ err }, 'simulator error') },
      })
      : undefined
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
    engine?.start()
    process.stdout.write(banner(server.url, firstStart))
    if (firstStart !== null) await markKeysShown(store)
    if (sandbox !== undefined) process.stdout.write(`Simulator on: calls and campaigns are simulated, time runs ${config.simulator.speed}× (docs/sandbox.md)\n`)
    logger.info({ url: server.url, store: store.driver, role: config.role, allowPrivateNetworks: config.allowPrivateNetworks }, 'listening')
    close = () => {
      sandbox?.stop()
      return server.close()
    }
  }

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the grace period.
      logger.warn({ signal }, 'second signal, exiting now')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    void close()
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

export function registerServe (program: Command): void {
  program
    .command('serve')
    .description('run the API and the delivery engine (what `npm start` runs)')
    .option('--role <role>', 'all (API and delivery engine), api or worker (KEJUE_ROLE, default all)')
    .option('--port <n>', 'TCP port (KEJUE_PORT, default 8080; 0 picks a free one)')
    .option('--host <addr>', 'address to bind (KEJUE_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'directory of the embedded SQLite store (KEJUE_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (KEJUE_DATABASE_URL or DATABASE_URL)')
    .option('--allow-private-networks', 'allow webhook URLs on internal addresses (KEJUE_ALLOW_PRIVATE_NETWORKS)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (KEJUE_LOG_LEVEL)')
    .option('--simulate', 'sandbox: simulate calls and campaigns (KEJUE_SIMULATOR; docs/sandbox.md)')
    .option('--simulate-speed <x>', 'sandbox: run simulated time x times faster (KEJUE_SIMULATOR_SPEED, default 1)')
    .option('--simulate-seed <n>', 'sandbox: fix every random draw (KEJUE_SIMULATOR_SEED)')
    .option('--simulate-outcomes <weights>', 'sandbox: outcome weights, e.g. completed=0.6,no_answer=0.2 (KEJUE_SIMULATOR_OUTCOMES)')
    .action(async (flags: ServeFlags) => {
      await runServe(flags)
    })
}
