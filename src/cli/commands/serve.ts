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
import { openStore } from '../../store/open-store.js'
import { createLogger } from '../../util/logger.js'
import { VERSION } from '../../version.js'
import { banner, markKeysShown, prepareFirstStart } from '../first-start.js'

export interface ServeFlags {
  port?: string
  host?: string
  dataDir?: string
  databaseUrl?: string
  allowPrivateNetworks?: boolean
  logLevel?: string
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
  const firstStart = await prepareFirstStart(store, { adminKey: config.adminKey })
  const metrics = createMetrics({ store })
  const app = await buildApp({ store, config, logger, metrics })
  const sender = createHttpClient({
    allowPrivateNetworks: config.allowPrivateNetworks,
    userAgent: `kejue-webhooks/${VERSION}`,
    maxResponseBytes: config.engine.responseExcerptBytes,
  })
  const e = config.engine
  const engine = createEngine({
    maxInFlight: e.maxInFlight,
    maxInFlightPerWebhook: e.maxInFlightPerWebhook,
    claimBatch: e.claimBatch,
    leaseMs: e.leaseMs,
    shutdownGraceMs: e.shutdownGraceMs,
  }, { store, sender, logger, metrics })

  let server
  try {
    server = await startServer({ host: config.host, port: config.port, shutdownGraceMs: config.engine.shutdownGraceMs }, { app, store, logger, engine })
  } catch (err) {
    const error = coerceError(err)
    process.stderr.write(`kejue-webhooks: cannot listen on ${config.host}:${config.port}: ${error.message}\n`)
    await app.close().catch(() => undefined)
    await sender.close().catch(() => undefined)
    await store.close().catch(() => undefined)
    process.exitCode = 1
    return
  }
  engine.start()
  process.stdout.write(banner(server.url, firstStart))
  if (firstStart !== null) await markKeysShown(store)
  logger.info({ url: server.url, store: store.driver, allowPrivateNetworks: config.allowPrivateNetworks }, 'listening')

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the grace period.
      logger.warn({ signal }, 'second signal, exiting now')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    void server.close()
      .then(() => sender.close())
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
    .option('--port <n>', 'TCP port (KEJUE_PORT, default 8080; 0 picks a free one)')
    .option('--host <addr>', 'address to bind (KEJUE_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'directory of the embedded SQLite store (KEJUE_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (KEJUE_DATABASE_URL or DATABASE_URL)')
    .option('--allow-private-networks', 'allow webhook URLs on internal addresses (KEJUE_ALLOW_PRIVATE_NETWORKS)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (KEJUE_LOG_LEVEL)')
    .action(async (flags: ServeFlags) => {
      await runServe(flags)
    })
}
