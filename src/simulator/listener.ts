/**
 * A local webhook receiver for development (`kejue-webhooks listen`, and the demo's receiver).
 * Every delivery is checked with the receiver SDK, exactly as a user's endpoint would, and
 * reported as one readable line: time, event type, event id, attempt, and whether it verified or
 * why not. `--json` prints one JSON object per delivery instead.
 *
 * Answers: 401 with the reason when verification fails (a 4xx is permanent, so the service does
 * not retry a delivery that can never verify); otherwise `status` (default 200; `--status 500`
 * rehearses failures and the service's retries).
 */
import { DEFAULTS } from '../config/defaults.js'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { safeVerify } from '../receiver/index.js'
import type { ReceiverSigningMethod, VerifyOptions } from '../receiver/index.js'

export interface ListenerOptions {
  /** @defaultValue 4000 (0 picks a free port) */
  port?: number
  /** @defaultValue '127.0.0.1' */
  host?: string
  /** The webhook's secret; without it (and with a method other than none) nothing can verify. */
  secret?: string | null
  /** @defaultValue 'hmac_sha256' */
  method?: ReceiverSigningMethod
  /** Status for deliveries that verified. @defaultValue 200 */
  status?: number
  /** One JSON object per delivery instead of a readable line. @defaultValue false */
  json?: boolean
  /** @defaultValue 300000 (the receiver SDK's five minutes) */
  toleranceMs?: number
  /**
   * Share (0–1) of deliveries whose first attempt is answered 503, chosen by delivery id, to show
   * the service's retries (the demo uses it). @defaultValue 0
   */
  failFirstAttemptRate?: number
}

/** One delivery as the listener saw it. */
export interface ReceivedDelivery {
  receivedAt: Date
  eventType: string | null
  eventId: string | null
  deliveryId: string | null
  attempt: number | null
  verified: boolean
  /** Why it did not verify: the SDK's error code and its fixed message. */
  reason: { code: string, message: string } | null
  /** The status the listener answered. */
  status: number
  /** The envelope, when the body parsed. */
  event: Record<string, unknown> | null
}

export interface Listener {
  start (): Promise<{ url: string, port: number }>
  close (): Promise<void>
  readonly received: readonly ReceivedDelivery[]
  /** Called for every delivery after it was answered. */
  onDelivery (listener: (delivery: ReceivedDelivery) => void): void
}

export interface ListenerDeps {
  /** Where lines go. @defaultValue process.stdout */
  write?: (line: string) => void
}

const MAX_BODY_BYTES = 5 * 1024 * 1024

function header (request: IncomingMessage, name: string): string | null {
  const value = request.headers[name]
  return typeof value === 'string' ? value : null
}

function readBody (request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        request.destroy()
        reject(new Error('body too large'))
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

function parseJson (bytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

/** `13:45:01.123  call.ended       evt_01J…  dlv_01J…  #1  ✔ verified` */
export function formatDelivery (delivery: ReceivedDelivery): string {
  const time = delivery.receivedAt.toISOString().slice(11, 23)
  const type = (delivery.eventType ?? '(unknown)').padEnd(17)
  const eventId = (delivery.eventId ?? '-').padEnd(30)
  const attempt = delivery.attempt === null ? '' : `#${delivery.attempt}  `
  const verdict = delivery.verified
    ? 'verified'
    : `NOT verified: ${delivery.reason?.message ?? 'unknown'} (${delivery.reason?.code ?? '?'})`
  const answered = delivery.status >= 200 && delivery.status < 300 ? '' : `  → ${delivery.status}`
  return `${time}  ${type} ${eventId} ${attempt}${delivery.verified ? '✔' : '✘'} ${verdict}${answered}`
}

export function createListener (options: ListenerOptions = {}, deps: ListenerDeps = {}): Listener {
  const method = options.method ?? 'hmac_sha256'
  const okStatus = options.status ?? DEFAULTS.simulator.listenerStatus
  const secret = options.secret ?? null
  const write = deps.write ?? ((line: string) => { process.stdout.write(`${line}\n`) })
  const received: ReceivedDelivery[] = []
  const listeners: Array<(delivery: ReceivedDelivery) => void> = []
  let server: Server | null = null
  const failRate = options.failFirstAttemptRate ?? DEFAULTS.simulator.listenerFailRate

  function flaky (deliveryId: string | null, attempt: string | null): boolean {
    if (failRate <= 0 || deliveryId === null || attempt !== '1') return false
    return createHash('sha256').update(deliveryId).digest().readUInt32BE(0) / 4_294_967_296 < failRate
  }

  function check (body: Buffer, request: IncomingMessage): { verified: boolean, reason: ReceivedDelivery['reason'] } {
    if (method !== 'none' && secret === null) {
      return { verified: false, reason: { code: 'NO_SECRET', message: 'no --secret given, so the signature cannot be checked' } }
    }
    const verifyOptions: VerifyOptions = method === 'none'
      ? { method: 'none', toleranceMs: options.toleranceMs }
      : { method, secret: secret ?? '', toleranceMs: options.toleranceMs }
    const result = safeVerify(body, request.headers, verifyOptions)
    return result.ok
      ? { verified: true, reason: null }
      : { verified: false, reason: { code: result.error.code, message: result.error.message } }
  }

  async function handle (request: IncomingMessage): Promise<ReceivedDelivery> {
    const body = await readBody(request)
    const event = parseJson(body)
    const { verified, reason } = check(body, request)
    const attemptText = header(request, 'x-kejue-attempt')
    return {
      receivedAt: new Date(),
      eventType: typeof event?.event === 'string' ? event.event : header(request, 'x-kejue-event'),
      eventId: typeof event?.event_id === 'string' ? event.event_id : header(request, 'x-kejue-event-id'),
      deliveryId: header(request, 'x-kejue-delivery-id'),
      attempt: attemptText !== null && /^\d+$/.test(attemptText) ? Number(attemptText) : null,
      verified,
      reason,
      status: !verified ? 401 : flaky(header(request, 'x-kejue-delivery-id'), attemptText) ? 503 : okStatus,
      event,
    }
  }

  return {
    received,
    onDelivery (listener) {
      listeners.push(listener)
    },
    start () {
      return new Promise((resolve, reject) => {
        server = createServer((request, response) => {
          if (request.method !== 'POST') {
            response.writeHead(405, { 'content-type': 'application/json', allow: 'POST' }).end('{"error":"POST webhook deliveries here"}')
            return
          }
          handle(request).then((delivery) => {
            const answer = delivery.verified
              ? { received: true }
              : { error: delivery.reason?.message ?? 'not verified', code: delivery.reason?.code ?? 'NOT_VERIFIED' }
            response.writeHead(delivery.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
            received.push(delivery)
            write(options.json === true
              ? JSON.stringify({ verified: delivery.verified, reason: delivery.reason, status: delivery.status, delivery_id: delivery.deliveryId, attempt: delivery.attempt, event: delivery.event })
              : formatDelivery(delivery))
            for (const listener of listeners) listener(delivery)
          }, () => {
            response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unreadable body"}')
          })
        })
        server.once('error', reject)
        server.listen(options.port ?? DEFAULTS.simulator.listenerPort, options.host ?? DEFAULTS.simulator.listenerHost, () => {
          const address = server?.address() as AddressInfo
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
          resolve({ url: `http://${host}:${address.port}/`, port: address.port })
        })
      })
    },
    close () {
      return new Promise((resolve) => {
        if (server === null) {
          resolve()
          return
        }
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
