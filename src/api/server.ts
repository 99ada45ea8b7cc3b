/**
 * Listening and shutting down. buildApp makes the routes; this binds them to a port, and on
 * stop closes in the order that loses nothing: stop taking requests (app.close() waits for
 * requests in flight), then stop the delivery engine (attempts in flight finish or go back to
 * the queue within the grace time), then close the store.
 */
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/store.js'
import type { Logger } from '../util/logger.js'
import { coerceError } from '../errors.js'

export interface Stoppable {
  stop (graceMs?: number): Promise<void>
}

export interface ServerOptions {
  host: string
  port: number
  shutdownGraceMs: number
}

export interface ServerDeps {
  app: FastifyInstance
  store: Store
  logger: Logger
  /** The delivery engine, when this process runs one. */
  engine?: Stoppable
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:8080`. */
  url: string
  port: number
  /** Idempotent: the second call waits for the first. */
  close (): Promise<void>
}

function urlFor (address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  // 0.0.0.0 and :: accept connections on loopback too; show an address a browser can open.
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host
  return `http://${shown}:${address.port}`
}

export async function startServer (options: ServerOptions, deps: ServerDeps): Promise<RunningServer> {
  await deps.app.listen({ host: options.host, port: options.port })
  const address = deps.app.server.address() as AddressInfo
  let closing: Promise<void> | null = null

  async function shutdown (): Promise<void> {
    const steps: Array<[string, () => Promise<void>]> = [
      ['http', () => deps.app.close()],
      ['engine', async () => { await deps.engine?.stop(options.shutdownGraceMs) }],
      ['store', () => deps.store.close()],
    ]
    for (const [name, step] of steps) {
      try {
        await step()
      } catch (err) {
        // Keep going: the store must still be closed when the engine fails to stop cleanly.
        deps.logger.error({ err: coerceError(err), step: name }, 'shutdown step failed')
      }
    }
  }

  return {
    url: urlFor(address),
    port: address.port,
    close () {
      closing ??= shutdown()
      return closing
    },
  }
}
