/**
 * The whole service in this process, on a store in `dataDir`: API on a free 127.0.0.1 port,
 * delivery engine, and the simulator. For `kejue-webhooks demo` and the sandbox's integration
 * tests; `serve --simulate` is the long-running equivalent. Private networks are allowed, since
 * the receivers are local.
 */
import { buildApp } from '../../api/app.js'
import { startServer } from '../../api/server.js'
import { markKeysShown, prepareFirstStart } from '../first-start.js'
import { resolveConfig } from '../../config/load.js'
import { createEngine } from '../../delivery/engine.js'
import { createHttpClient } from '../../delivery/http-client.js'
import { ServiceError } from '../../errors.js'
import { openStore } from '../../store/open-store.js'
import type { Store } from '../../store/store.js'
import { createLogger } from '../../util/logger.js'
import { USER_AGENT } from '../../util/version.js'
import { createSandbox } from '../../simulator/sandbox.js'
import type { Sandbox, SandboxOptions } from '../../simulator/sandbox.js'

export interface LocalServiceOptions {
  dataDir: string
  sandbox?: SandboxOptions
  /** Without the simulator the service is exactly what `serve` runs. @defaultValue true */
  simulate?: boolean
}

export interface LocalService {
  /** e.g. `http://127.0.0.1:41234` */
  url: string
  workspaceId: string
  /** The default workspace's API key (X-API-Key). */
  workspaceKey: string
  store: Store
  sandbox: Sandbox | undefined
  close (): Promise<void>
}

export async function startLocalService (options: LocalServiceOptions, deps: { onError?: (error: Error) => void } = {}): Promise<LocalService> {
  const config = resolveConfig({ env: {}, flags: { port: '0', allowPrivateNetworks: true, logLevel: 'silent' } })
  const logger = createLogger({ level: 'silent' })
  const store = await openStore({ dataDir: options.dataDir })
  const keys = await prepareFirstStart(store, { adminKey: null })
  if (keys === null) {
    await store.close()
    throw new ServiceError('CONFLICT', `the store in ${options.dataDir} was used before; give an empty directory`)
  }
  await markKeysShown(store)
  const sandbox = options.simulate === false ? undefined : createSandbox(options.sandbox ?? {}, { store, onError: deps.onError })
  const app = await buildApp({ store, config, logger, sandbox })
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT, maxResponseBytes: config.engine.responseExcerptBytes, connections: config.engine.maxInFlightPerWebhook })
  const e = config.engine
  const engine = createEngine({ maxInFlight: e.maxInFlight, maxInFlightPerWebhook: e.maxInFlightPerWebhook, claimBatch: e.claimBatch, leaseMs: e.leaseMs, shutdownGraceMs: e.shutdownGraceMs, ...config.health }, { store, sender, logger })
  const server = await startServer({ host: '127.0.0.1', port: 0, shutdownGraceMs: 2_000 }, { app, store, logger, engine })
  engine.start()
  return {
    url: server.url,
    workspaceId: keys.workspace.id,
    workspaceKey: keys.workspaceKey,
    store,
    sandbox,
    async close () {
      sandbox?.stop()
      await server.close()
      await sender.close()
    },
  }
}
