import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { createListener } from '../../src/simulator/listener.js'
import type { Listener, ReceivedDelivery } from '../../src/simulator/listener.js'
import { startLocalService } from '../../src/cli/demo/local-service.js'
import type { LocalService } from '../../src/cli/demo/local-service.js'
import type { SandboxOptions } from '../../src/simulator/sandbox.js'
import { waitFor } from '../helpers/wait-for.js'

export interface Harness {
  service: LocalService
  api: (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<{ status: number, body: Record<string, unknown> }>
  receiver: (secret: string) => Promise<{ listener: Listener, url: string }>
  close: () => Promise<void>
}

/** The real service (SQLite in a temp dir, engine, API on 127.0.0.1) with the simulator on. */
export async function startHarness (sandbox: SandboxOptions): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'kejue-sim-'))
  const errors: Error[] = []
  const service = await startLocalService({ dataDir: dir, sandbox }, { onError: (err) => errors.push(err) })
  const listeners: Listener[] = []
  return {
    service,
    async api (method, path, body) {
      const res = await request(`${service.url}/api/v1${path}`, {
        method,
        headers: { 'x-api-key': service.workspaceKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.body.text()
      return { status: res.statusCode, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
    },
    async receiver (secret) {
      const listener = createListener({ port: 0, secret }, { write: () => {} })
      listeners.push(listener)
      const { url } = await listener.start()
      return { listener, url }
    },
    async close () {
      await service.close()
      for (const listener of listeners) await listener.close()
      await rm(dir, { recursive: true, force: true })
      if (errors.length > 0) throw new AggregateError(errors, `the simulator reported errors: ${errors.map((e) => e.message).join('; ')}`)
    },
  }
}


export { waitFor }

/** Waits until no delivery of the store is pending (all succeeded or failed). */
export async function waitSettled (service: LocalService, timeoutMs = 20_000): Promise<void> {
  await waitFor('deliveries to settle', async () => (await service.store.queueStats(new Date(), new Date(0))).pending === 0, timeoutMs)
}

/** Verified deliveries, one per event id (retries dropped), in order of first arrival. */
export function events (received: readonly ReceivedDelivery[]): Array<{ event: string, data: Record<string, unknown>, eventId: string }> {
  const seen = new Set<string>()
  const out: Array<{ event: string, data: Record<string, unknown>, eventId: string }> = []
  for (const delivery of received) {
    if (!delivery.verified || delivery.event === null || delivery.eventId === null || seen.has(delivery.eventId)) continue
    seen.add(delivery.eventId)
    out.push({ event: String(delivery.event.event), data: delivery.event.data as Record<string, unknown>, eventId: delivery.eventId })
  }
  return out
}
