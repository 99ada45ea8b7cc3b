/**
 * Real deliveries for receiver tests: the engine (SQLite, the undici sender) signs and POSTs an
 * event to a URL, exactly as the service does. `captureDelivery` records one on a scripted
 * receiver and hands back its bytes and headers, to replay into receivers that have no server.
 */
import { acceptEvent } from '../../src/delivery/accept-event.js'
import type { EventType } from '../../src/events/event-types.js'
import { samplePayload } from '../../src/events/samples.js'
import type { Delivery, DeliveryStatus } from '../../src/store/store.js'
import { startHarness } from './engine-harness.js'
import type { Harness } from './engine-harness.js'
import { startReceiver } from './receiver.js'

export const DELIVERY_SECRET = 'whsec_real_delivery_secret'

export interface CapturedDelivery {
  body: Buffer
  /** Lowercase names, as Node's `req.headers` has them. */
  headers: Record<string, string>
}

export interface Deliverer {
  /** Sends `event` to `url` through the engine and waits until the delivery is `status`. */
  deliver (url: string, options?: { status?: DeliveryStatus, event?: EventType, secret?: string, maxRetries?: number, metadata?: Record<string, unknown> }): Promise<Delivery>
  harness: Harness
  close (): Promise<void>
}

export async function startDeliverer (): Promise<Deliverer> {
  const harness = await startHarness()
  return {
    harness,
    async deliver (url, options = {}) {
      const event = options.event ?? 'call.ended'
      const webhook = await harness.addWebhook({
        url,
        events: [event],
        secret: options.secret ?? DELIVERY_SECRET,
        maxRetries: options.maxRetries ?? 0,
        backoffMs: 100,
      })
      const accepted = await acceptEvent(harness.store, {
        workspaceId: harness.workspaceId,
        event,
        data: samplePayload(event),
        metadata: options.metadata,
        onlyWebhook: webhook,
      })
      const [id] = accepted.deliveryIds
      if (id === undefined) throw new Error('no delivery was created')
      return harness.waitForDelivery(id, options.status ?? 'succeeded', 20_000)
    },
    close: () => harness.close(),
  }
}

/** One real, signed delivery's bytes and headers, as a receiver would get them. */
export async function captureDelivery (options: { event?: EventType, secret?: string } = {}): Promise<CapturedDelivery> {
  const deliverer = await startDeliverer()
  const receiver = await startReceiver({ respond: [204] })
  try {
    await deliverer.deliver(receiver.url, options)
    const [request] = await receiver.waitForRequests(1)
    if (request === undefined) throw new Error('no request arrived')
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name] = value
    return { body: request.body, headers }
  } finally {
    await receiver.close()
    await deliverer.close()
  }
}
