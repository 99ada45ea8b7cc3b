/**
 * The delivery engine alone, behind `acceptEvent` (no HTTP API in front):
 *  - drain: a stored backlog of N events delivered to the receiver (SQLite: the engine in this
 *    process; PostgreSQL: `serve --role worker` processes, `--workers 1,2` compares counts).
 */
import { acceptEvent } from '../src/delivery/accept-event.js'
import { createEngine } from '../src/delivery/engine.js'
import { createHttpClient } from '../src/delivery/http-client.js'
import { samplePayload } from '../src/events/samples.js'
import { openStore } from '../src/store/open-store.js'
import type { Store } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { USER_AGENT } from '../src/util/version.js'
import type { Phase } from './phase.js'
import { numberArg } from './phase.js'
import { startWorkerProcesses } from './worker-processes.js'

async function fillBacklog (store: Store, workspaceId: string, total: number): Promise<void> {
  const data = samplePayload('call.ended')
  // As the API would: many requests at once, so the store can commit them together.
  for (let i = 0; i < total; i += 256) {
    await Promise.all(Array.from({ length: Math.min(256, total - i) }, () => acceptEvent(store, { workspaceId, event: 'call.ended', data })))
  }
}

export const drainPhase: Phase = {
  name: 'drain',
  description: 'the engine alone delivering a stored backlog of --events N (PostgreSQL: --workers 1,2 worker processes)',
  extraOptions: { workers: { type: 'string', default: '1' } },
  async run (ctx) {
    const total = numberArg(ctx, 'events')
    const location = await ctx.freshStore()
    const store = await openStore(location)
    const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
    try {
      const workspaceId = newId('ws')
      await store.createWorkspace({ id: workspaceId, name: 'bench', createdAt: new Date() })
      await store.createWebhook({
        id: newId('wh'), workspaceId, url: ctx.receiverUrl, events: ['*'], name: 'bench', signingMethod: 'hmac_sha256', secret: 'whsec_bench',
        scopeType: 'global', personaId: null, enabled: true, jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500,
      }, new Date())
      const workerCounts = location.databaseUrl === undefined ? [1] : String(ctx.args.workers).split(',').map(Number)
      for (const workers of workerCounts) {
        await ctx.receiver.reset()
        const fillStart = performance.now()
        await fillBacklog(store, workspaceId, total)
        ctx.log(`  (acceptEvent alone: ${total} events in ${((performance.now() - fillStart) / 1000).toFixed(1)} s = ${(total / ((performance.now() - fillStart) / 1000)).toFixed(0)} ev/s)`)
        const started = performance.now()
        if (location.databaseUrl !== undefined) {
          const procs = await startWorkerProcesses(workers, location.databaseUrl)
          await ctx.receiver.waitForCount(total, 600_000)
          await procs.stop()
        } else {
          const engine = createEngine({}, { store, sender })
          engine.start()
          await ctx.receiver.waitForCount(total, 600_000)
          await engine.stop()
        }
        const rate = total / ((performance.now() - started) / 1000)
        const who = location.databaseUrl === undefined ? 'in-process engine' : `${workers} worker process${workers > 1 ? 'es' : ''}`
        ctx.report({ figure: `drain, engine alone (${who})`, value: rate, unit: 'deliveries/s', vsBaseline: true })
      }
    } finally {
      await sender.close()
      await store.close()
    }
  },
}
