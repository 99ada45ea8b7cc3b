/**
 * The dashboard's browser tests' service: a SQLite store in a temporary directory, one workspace
 * with an API key, and the API + dashboard listening on 127.0.0.1. `close` runs `cleanups` (newest
 * first, as each test adds the browser and the like) and removes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { buildApp } from '../../src/api/app.js'
import { makeApiKey } from '../../src/api/auth.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/store.js'
import { createLogger } from '../../src/util/logger.js'
import type { Logger } from '../../src/util/logger.js'
import { launchChromium } from './browser.js'

export interface DashboardApp {
  store: Store
  app: FastifyInstance
  logger: Logger
  /** The workspace's API key. */
  token: string
  /** http://127.0.0.1:<port> */
  base: string
  /** Run by `close`, first one first: add to the front. */
  cleanups: Array<() => Promise<unknown>>
  close: () => Promise<void>
  /** A page in a new Chromium (closed by `close`), 20 s default timeout; its errors collect in `pageErrors`. */
  openPage: () => Promise<{ page: Page, pageErrors: string[] }>
}

export async function startDashboardApp (prefix: string, workspaceId: string, workspaceName = 'A'): Promise<DashboardApp> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const cleanups: Array<() => Promise<unknown>> = [async () => store.close()]
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const now = new Date()
    await store.createWorkspace({ id: workspaceId, name: workspaceName, createdAt: now })
    const key = makeApiKey(workspaceId, now)
    await store.createApiKey(key.row)
    const logger = createLogger({ level: 'silent' })
    const app = await buildApp({ store, config: { allowPrivateNetworks: true, bodyLimitBytes: 1024 * 1024 }, logger })
    cleanups.unshift(async () => app.close())
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const openPage = async (): Promise<{ page: Page, pageErrors: string[] }> => {
      const browser = await launchChromium()
      cleanups.unshift(async () => browser.close())
      const page = await (await browser.newContext()).newPage()
      page.setDefaultTimeout(20_000)
      const pageErrors: string[] = []
      page.on('pageerror', (err) => pageErrors.push(err.message))
      return { page, pageErrors }
    }
    return { store, app, logger, token: key.token, base, cleanups, close, openPage }
  } catch (err) {
    await close()
    throw err
  }
}
