/**
 * `kejue-webhooks demo`: the whole loop in one command, with nothing else running (docs/sandbox.md).
 * Service on a temporary store with the simulator, a local listener, a "*" webhook, a campaign
 * at accelerated time, a progress bar, then a summary. Everything goes through the public HTTP
 * API except the delivery counts at the end, read from the store.
 */
import { DEFAULTS } from '../../config/defaults.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { coerceError } from '../../errors.js'
import type { Store } from '../../store/store.js'
import { newToken } from '../../util/ids.js'
import { allVerified, callOrder, renderProgress, renderSummary } from './demo-report.js'
import type { DemoSummary } from './demo-report.js'
import { createListener } from '../../simulator/listener.js'
import { startLocalService } from './local-service.js'

export interface DemoOptions {
  /** @defaultValue 50 */
  contacts?: number
  /** @defaultValue 1000 */
  speed?: number
  seed?: number | null
  /** Share of first attempts the listener answers 503, to show retries. @defaultValue 0.1 */
  flakyRate?: number
  /** Give up after this long. @defaultValue 55000 */
  timeoutMs?: number
}

export interface DemoIo {
  write: (text: string) => void
  /** Whether `write` goes to a terminal (the progress bar redraws in place). */
  tty: boolean
}

async function api (base: string, key: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await request(`${base}/api/v1${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const parsed = JSON.parse(await res.body.text()) as Record<string, unknown>
  if (res.statusCode >= 300) throw new Error(`${method} ${path} answered ${res.statusCode}: ${String(parsed.error)}`)
  return parsed
}

async function countDeliveries (store: Store, workspaceId: string): Promise<DemoSummary['deliveries']> {
  const out = { total: 0, succeeded: 0, failed: 0, pending: 0, retried: 0 }
  let cursor: string | undefined
  do {
    const page = await store.listDeliveries({ workspaceId, limit: 100, cursor })
    for (const delivery of page.data) {
      out.total++
      // The demo's webhooks are never disabled, so nothing is parked.
      if (delivery.status !== 'parked') out[delivery.status]++
      if (delivery.attemptCount > 1) out.retried++
    }
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return out
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs the demo; resolves with the exit code (0 only when every delivery verified). */
export async function runDemo (options: DemoOptions = {}, io: DemoIo): Promise<number> {
  const contacts = options.contacts ?? DEFAULTS.simulator.demoContacts
  const speed = options.speed ?? DEFAULTS.simulator.demoSpeed
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULTS.simulator.demoTimeoutMs)
  const startedAt = Date.now()
  const dir = await mkdtemp(join(tmpdir(), 'kejue-demo-'))
  const errors: Error[] = []
  const secret = newToken('whsec')
  const listener = createListener({ port: 0, secret, failFirstAttemptRate: options.flakyRate ?? DEFAULTS.simulator.demoFlakyRate }, { write: () => {} })
  let service: Awaited<ReturnType<typeof startLocalService>> | null = null
  try {
    service = await startLocalService({ dataDir: dir, sandbox: { speed, seed: options.seed ?? null } }, { onError: (err) => errors.push(err) })
    const { url: receiverUrl } = await listener.start()
    io.write(`Service on ${service.url} (temporary store, simulator at ${speed}×); receiver on ${receiverUrl}\n`)
    // Per-call ordering keeps each call's events in order through retries (docs/delivery.md).
    const webhook = await api(service.url, service.workspaceKey, 'POST', '/webhooks', { url: receiverUrl, events: ['*'], secret, name: 'demo receiver', ordering: 'per_call' })
    io.write(`Webhook ${String(webhook.id)} subscribed to "*", one delivery at a time per call\n`)
    const campaign = await api(service.url, service.workspaceKey, 'POST', '/campaigns', {
      name: 'Demo outreach',
      persona_id: 'per_demo',
      contacts: Array.from({ length: contacts }, () => ({})),
      auto_start: true,
    })
    const campaignId = String(campaign.id)
    io.write(`Campaign ${campaignId}: ${contacts} contacts\n`)

    let snapshot = campaign
    let lastShown = -1
    while (snapshot.ended !== true) {
      if (Date.now() > deadline) throw new Error('the campaign did not end in time')
      await sleep(100)
      snapshot = await api(service.url, service.workspaceKey, 'GET', `/campaigns/${campaignId}`)
      const stats = snapshot.stats as Record<string, number>
      const done = (stats.total_contacts ?? 0) - (stats.not_called ?? 0)
      const line = renderProgress(done, contacts, `${stats.calls_placed ?? 0} calls  ${listener.received.length} deliveries`)
      if (io.tty) io.write(`\r${line}`)
      else if (Math.floor(done / Math.max(1, contacts) * 5) !== lastShown || snapshot.ended === true) {
        lastShown = Math.floor(done / Math.max(1, contacts) * 5)
        io.write(`${line}\n`)
      }
    }
    if (io.tty) io.write('\n')
    io.write('Campaign ended; waiting for the last deliveries and retries…\n')
    while ((await service.store.queueStats(new Date(), new Date(0))).pending > 0) {
      if (Date.now() > deadline) break
      await sleep(50)
    }

    const eventsByType: Record<string, number> = {}
    const seen = new Set<string>()
    for (const delivery of listener.received) {
      if (delivery.eventId === null || seen.has(delivery.eventId)) continue
      seen.add(delivery.eventId)
      const type = delivery.eventType ?? '(unknown)'
      eventsByType[type] = (eventsByType[type] ?? 0) + 1
    }
    const verified = listener.received.filter((d) => d.verified).length
    const summary: DemoSummary = {
      campaign: {
        id: campaignId,
        endReason: snapshot.end_reason as string | null,
        stats: snapshot.stats as Record<string, number>,
        performance: snapshot.performance as Record<string, number>,
      },
      eventsByType,
      deliveries: await countDeliveries(service.store, service.workspaceId),
      requests: { total: listener.received.length, verified, rejected: listener.received.length - verified },
      order: callOrder(listener.received),
      elapsedMs: Date.now() - startedAt,
    }
    io.write(renderSummary(summary))
    for (const error of errors) io.write(`simulator error: ${error.message}\n`)
    const ok = allVerified(summary) && summary.order.outOfOrder === 0 && summary.deliveries.failed === 0 && summary.deliveries.pending === 0 && errors.length === 0
    return ok ? 0 : 1
  } catch (err) {
    io.write(`\ndemo failed: ${coerceError(err).message}\n`)
    return 1
  } finally {
    await service?.close().catch(() => undefined)
    await listener.close()
    await rm(dir, { recursive: true, force: true })
  }
}
