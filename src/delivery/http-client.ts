/**
 * Sends one delivery attempt over undici and turns whatever happens into an `AttemptOutcome`
 * value (never a throw). Only this file touches the network for deliveries.
 *
 * - `pool.dispatch` with one handler object per attempt on a keep-alive undici `Pool` (never
 *   `fetch`, never the global dispatcher, so HTTP_PROXY/HTTPS_PROXY are ignored: a webhook goes
 *   straight to its host). Not `request()`: its stream and per-request AbortSignal cost ~40% of
 *   the CPU.
 * - One pool per (webhook, origin), made on first use and closed after `POOL_IDLE_MS` without
 *   attempts, so 10,000 webhooks seen once do not keep 10,000 pools. A pool per origin would let
 *   a webhook that never answers take every socket to a host it shares with other webhooks
 *   (Zapier, n8n, one gateway with many paths); keyed by webhook it can only take its own
 *   `connections` (= the engine's per-webhook cap). docs/delivery.md, "Isolation".
 * - Hostile responses cost little: headers are capped at `MAX_HEADER_BYTES` (undici fails the
 *   attempt past it), the body is read up to the excerpt cap, and a trickled answer (headers or
 *   body at 1 byte/s) ends at the attempt's deadline like any other; between bytes it costs
 *   nothing but the socket.
 * - No redirect interceptor: a 3xx is the answer (docs/wire-format.md#delivery-policy: "redirects are never followed").
 * - One timer covers the whole attempt, from queueing on the pool through connect, headers and
 *   the body (docs/wire-format.md#delivery-policy: "no complete response within `timeout_ms`"); it ends the attempt at
 *   the deadline even while the connection is still being made.
 * - The response body is read up to `maxResponseBytes` and the rest is dropped with the
 *   connection, so a 1 GB answer costs 4 KiB of memory.
 * - The SSRF guard (ssrf.ts) runs twice: on the URL host before anything is sent, and inside the
 *   connector, where names are resolved and every resolved address is checked.
 * - Error strings are fixed phrases chosen here, never an upstream message, so they cannot carry
 *   a header (an Authorization secret) or anything else from the request.
 */
import { performance } from 'node:perf_hooks'
import { Pool, buildConnector } from 'undici'
import type { Dispatcher } from 'undici'
import { DEFAULTS } from '../config/defaults.js'
import { networkFailure } from './outcome.js'
import { signedHeaders } from './prepare.js'
import type { AttemptOutcome, HttpSender, OutgoingRequest } from './outcome.js'
import {
  FORBIDDEN_DESTINATION_CODE,
  FORBIDDEN_DESTINATION_MESSAGE,
  checkUrlShape,
  createGuardedLookup,
  forbiddenDestinationError,
  isForbiddenHost,
} from './ssrf.js'
import type { LookupAll } from './ssrf.js'

export interface HttpClientOptions {
  /** KEJUE_ALLOW_PRIVATE_NETWORKS: when true the SSRF guard is off (local development, tests). */
  allowPrivateNetworks: boolean
  /** Sent as `User-Agent` unless the request sets one (docs/wire-format.md: `kejue-webhooks/<version>`). */
  userAgent: string
  /**
   * How much of a response body is kept as the attempt's excerpt.
   * @defaultValue 4096
   */
  maxResponseBytes?: number
  /**
   * Keep-alive connections per webhook and origin: the engine's per-webhook in-flight cap, so a
   * webhook never waits for a socket of its own pool and never uses anyone else's.
   * @defaultValue 64 (DEFAULTS.engine.maxInFlightPerWebhook)
   */
  connections?: number
}

export interface HttpClientDeps {
  /** Name resolution for the connector; `dns.lookup` unless a test injects one. */
  lookup?: LookupAll
}

const DEFAULT_CONNECTIONS = DEFAULTS.engine.maxInFlightPerWebhook
// A pool with no attempt for this long is closed (its keep-alive sockets have closed by then).
const POOL_IDLE_MS = 30_000
// Node's own default for incoming headers; a webhook receiver has no reason to send more, and a
// receiver streaming endless headers is cut off here instead of being parsed for timeout_ms.
const MAX_HEADER_BYTES = 16 * 1024
// The per-attempt timer is what enforces timeout_ms; the connector's own timeout is only a
// backstop for sockets left connecting after an attempt gave up, so the longest allowed timeout.
const CONNECT_TIMEOUT_MS = DEFAULTS.limits.timeoutMsMax
// undici's keep-alive default; receivers (Node's http server: 5 s) usually close idle sockets
// sooner than this would matter.
const KEEP_ALIVE_TIMEOUT_MS = 4_000

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
])

/** What an attempt made after the sender was closed ends with. */
export const CLIENT_CLOSED_ERROR = 'HTTP client is closed'

// Fixed phrases per error code; anything else becomes "request failed (<CODE>)".
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server while sending',
  UND_ERR_SOCKET: 'connection closed by the server before a complete response',
  ENOTFOUND: 'host not found (DNS lookup failed)',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EAI_FAIL: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host is down',
  UND_ERR_HEADERS_OVERFLOW: 'response headers too large',
  UND_ERR_CLOSED: CLIENT_CLOSED_ERROR,
  UND_ERR_DESTROYED: CLIENT_CLOSED_ERROR,
}

const INVALID_REQUEST_ERROR = 'request could not be sent: invalid URL or header value'

/** A short, safe text for an error: its code when it has one, never its message. */
function errorCode (err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') return code
  // Node's autoSelectFamily reports an AggregateError of the per-address attempts.
  const errors = (err as { errors?: unknown }).errors
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0])
  const cause = (err as { cause?: unknown }).cause
  return cause === undefined ? undefined : errorCode(cause)
}

export type ErrorClass =
  | { kind: 'timeout', error: string }
  | { kind: 'network', error: string }
  | { kind: 'blocked', reason: 'private-address' | 'invalid-url', error: string }

/**
 * Sorts an error thrown by undici/net into timeout, network or blocked, with a safe message.
 * Exported for unit tests; `send` is the real user.
 */
export function classifyError (err: unknown, timeoutMs: number): ErrorClass {
  const code = errorCode(err)
  if (code === FORBIDDEN_DESTINATION_CODE) {
    return { kind: 'blocked', reason: 'private-address', error: FORBIDDEN_DESTINATION_MESSAGE }
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return { kind: 'timeout', error: timeoutMessage(timeoutMs) }
  }
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN') {
    return { kind: 'blocked', reason: 'invalid-url', error: INVALID_REQUEST_ERROR }
  }
  if (code === undefined || code.startsWith('HPE_')) {
    // undici's HTTPParserError carries no code (only a name, and the bytes it choked on).
    const name = err instanceof Error ? err.name : ''
    if (name === 'HTTPParserError' || code !== undefined) return { kind: 'network', error: 'invalid HTTP response from the server' }
    return { kind: 'network', error: 'request failed' }
  }
  const known = NETWORK_ERRORS[code]
  if (known !== undefined) return { kind: 'network', error: known }
  if (/CERT|SSL|TLS/.test(code)) return { kind: 'network', error: `TLS error (${safeCode(code)})` }
  return { kind: 'network', error: `request failed (${safeCode(code)})` }
}

function safeCode (code: string): string {
  return /^[A-Za-z0-9_]{1,48}$/.test(code) ? code : 'unknown error'
}

function timeoutMessage (timeoutMs: number): string {
  return `no complete response within ${timeoutMs} ms`
}

// Shared by every attempt that read its whole body: a non-streaming `decode` starts afresh
// each call (WHATWG Encoding), so sharing it changes nothing. A cut body decodes with
// `stream: true`, which leaves state behind, so it gets a decoder of its own.
const wholeBodyDecoder = new TextDecoder('utf-8')

/**
 * The excerpt as text: lossy UTF-8; `stream: true` on a cut body drops a character split by the
 * cut instead of ending in U+FFFD. NUL becomes U+FFFD because PostgreSQL text cannot hold it.
 */
function excerptText (chunks: Buffer[], size: number, truncated: boolean): string {
  const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
  const text = truncated
    ? new TextDecoder('utf-8').decode(bytes, { stream: true })
    : wholeBodyDecoder.decode(bytes)
  return text.replaceAll('\u0000', '\uFFFD')
}

export function classifyStatus (statusCode: number, durationMs: number, responseExcerpt: string, retryAfter?: string): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) {
    return { kind: 'delivered', statusCode, durationMs, responseExcerpt }
  }
  if (statusCode >= 500) {
    const failed: AttemptOutcome = { kind: 'failed', reason: 'server', statusCode, durationMs, error: `server responded ${statusCode}`, responseExcerpt }
    // Only a 503's Retry-After is honoured (docs/delivery.md, "Retry-After").
    return statusCode === 503 && retryAfter !== undefined ? { ...failed, retryAfter } : failed
  }
  // spec "Delivery & Retries": 4xx is permanent; docs/wire-format.md#delivery-policy: so is 3xx (never followed).
  return { kind: 'rejected', statusCode, durationMs, responseExcerpt }
}

/**
 * One attempt as an undici dispatch handler. Settles its promise exactly once, from whichever
 * comes first: the end of the response, the excerpt cap, an error, or the attempt's timer.
 * Whatever is still running on the connection after that is aborted and its callbacks ignored.
 *
 * The timer is the only clock (no AbortSignal: one per request cost about a third of the
 * throughput). If it fires before undici has handed over a controller (still queued or
 * connecting), the attempt settles at once and is aborted as soon as the controller arrives.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly #resolve: (outcome: AttemptOutcome) => void
  readonly #startedAt: number
  readonly #timeoutMs: number
  readonly #maxBytes: number
  readonly #timer: NodeJS.Timeout
  #controller: Dispatcher.DispatchController | null = null
  #settled = false
  #statusCode: number | null = null
  #retryAfter: string | undefined
  #chunks: Buffer[] = []
  #size = 0

  constructor (resolve: (outcome: AttemptOutcome) => void, startedAt: number, timeoutMs: number, maxBytes: number) {
    this.#resolve = resolve
    this.#startedAt = startedAt
    this.#timeoutMs = timeoutMs
    this.#maxBytes = maxBytes
    this.#timer = setTimeout(() => { this.#onTimeout() }, timeoutMs)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    // Timed out while queued or connecting: nothing of this attempt may go out now.
    if (this.#settled) controller.abort(new Error('attempt already ended'))
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx informational responses are not the answer; the final status follows.
    if (statusCode < 200) return
    this.#statusCode = statusCode
    const retryAfter = headers['retry-after']
    this.#retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return
    const room = this.#maxBytes - this.#size
    if (chunk.length > room) {
      this.#chunks.push(chunk.subarray(0, room))
      this.#size += room
      this.#finish(true)
      // Pausing first makes undici's parser stop at this chunk (no further callbacks from it);
      // the abort then drops the rest with the connection instead of downloading it.
      controller.pause()
      controller.abort(new Error('response excerpt is complete'))
      return
    }
    this.#chunks.push(chunk)
    this.#size += chunk.length
  }

  onResponseEnd (): void {
    if (this.#settled) return
    this.#finish(false)
  }

  onResponseError (_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.#settled) return
    const cls = classifyError(err, this.#timeoutMs)
    if (cls.kind === 'blocked') {
      this.#settle({ kind: 'blocked', reason: cls.reason, durationMs: this.#elapsedMs(), error: cls.error })
      return
    }
    this.#settle({ kind: 'failed', reason: cls.kind, statusCode: this.#statusCode, durationMs: this.#elapsedMs(), error: cls.error, responseExcerpt: null })
  }

  #onTimeout (): void {
    if (this.#settled) return
    this.#settle({ kind: 'failed', reason: 'timeout', statusCode: this.#statusCode, durationMs: this.#elapsedMs(), error: timeoutMessage(this.#timeoutMs), responseExcerpt: null })
    // Without a controller yet, onRequestStart aborts when it arrives.
    this.#controller?.abort(new Error('attempt timed out'))
  }

  #finish (truncated: boolean): void {
    // A response always has a final status before its body (onResponseStart comes first).
    const statusCode = this.#statusCode ?? 0
    const responseExcerpt = excerptText(this.#chunks, this.#size, truncated)
    this.#chunks = []
    this.#settle(classifyStatus(statusCode, this.#elapsedMs(), responseExcerpt, this.#retryAfter))
  }

  #settle (outcome: AttemptOutcome): void {
    this.#settled = true
    clearTimeout(this.#timer)
    this.#resolve(outcome)
  }

  #elapsedMs (): number {
    return Math.round(performance.now() - this.#startedAt)
  }
}

interface PoolEntry {
  pool: Pool
  /** Attempts of this pool not yet settled; a pool is only closed at 0. */
  active: number
  /** `performance.now()` of the last attempt's start or end. */
  lastUsedAt: number
}

function buildHeaders (request: OutgoingRequest, userAgent: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': userAgent,
  }
  for (const [name, value] of Object.entries(signedHeaders(request))) headers[name.toLowerCase()] = value
  return headers
}

/** Recorded when the request cannot be signed (a secret the API would have refused): a bug. */
export const SIGNING_FAILED_ERROR = 'could not sign the request'

/**
 * Creates the sender the delivery engine uses for every attempt.
 *
 * @example
 * const http = createHttpClient({ allowPrivateNetworks: false, userAgent: 'kejue-webhooks/0.1.0' })
 * const outcome = await http.send({ url, headers, body, timeoutMs: 5000 })
 * await http.close()
 */
export function createHttpClient (options: HttpClientOptions, deps: HttpClientDeps = {}): HttpSender {
  const guard = !options.allowPrivateNetworks
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULTS.engine.responseExcerptBytes
  const baseConnect = buildConnector({
    timeout: CONNECT_TIMEOUT_MS,
    lookup: createGuardedLookup({ refuseForbidden: guard, ...(deps.lookup === undefined ? {} : { resolve: deps.lookup }) }),
  })
  // IP literals never reach `lookup` (Node connects to them directly), so the guard checks them
  // here too. Without the guard there is nothing to add to undici's connector.
  const connect: buildConnector.connector = guard
    ? (connectOptions, callback) => {
        if (isForbiddenHost(connectOptions.hostname)) {
          callback(forbiddenDestinationError(), null)
          return
        }
        baseConnect(connectOptions, callback)
      }
    : baseConnect
  const poolOptions: Pool.Options = {
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    pipelining: 1,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderSize: MAX_HEADER_BYTES,
    connect,
  }
  const pools = new Map<string, PoolEntry>()
  let closed = false

  function poolFor (webhookId: string, origin: string): PoolEntry {
    const key = `${webhookId} ${origin}`
    let entry = pools.get(key)
    if (entry === undefined) {
      entry = { pool: new Pool(origin, poolOptions), active: 0, lastUsedAt: performance.now() }
      pools.set(key, entry)
    }
    return entry
  }

  // One sweep for all pools, instead of a timer per pool.
  const sweeper = setInterval(() => {
    const idleSince = performance.now() - POOL_IDLE_MS
    for (const [key, entry] of pools) {
      if (entry.active > 0 || entry.lastUsedAt > idleSince) continue
      pools.delete(key)
      entry.pool.close().catch(() => {})
    }
  }, POOL_IDLE_MS / 2)
  sweeper.unref()

  async function send (outgoing: OutgoingRequest): Promise<AttemptOutcome> {
    const startedAt = performance.now()
    const elapsedMs = (): number => Math.round(performance.now() - startedAt)

    const shape = checkUrlShape(outgoing.url)
    if (!shape.ok) return { kind: 'blocked', reason: 'invalid-url', durationMs: elapsedMs(), error: shape.reason }
    if (guard && isForbiddenHost(shape.url.hostname)) {
      return { kind: 'blocked', reason: 'private-address', durationMs: elapsedMs(), error: FORBIDDEN_DESTINATION_MESSAGE }
    }

    const { timeoutMs } = outgoing
    const url = shape.url
    if (closed) return networkFailure(CLIENT_CLOSED_ERROR, elapsedMs())
    let headers: Record<string, string>
    try {
      headers = buildHeaders(outgoing, options.userAgent)
    } catch {
      // Retryable, as a sender bug is; the error's own text stays out (it is about a secret).
      return networkFailure(SIGNING_FAILED_ERROR, elapsedMs())
    }
    const entry = poolFor(outgoing.webhookId, url.origin)
    entry.active++
    return new Promise((resolve) => {
      const attempt = new Attempt((outcome) => {
        entry.active--
        entry.lastUsedAt = performance.now()
        resolve(outcome)
      }, startedAt, timeoutMs, maxResponseBytes)
      // dispatch reports its own errors (bad header values included) through onResponseError.
      entry.pool.dispatch({
        path: url.search === '' ? url.pathname : `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body: outgoing.body,
        // undici's own timers are coarse (about 1 s) and count per phase; they stay a backstop
        // no larger than the attempt's timer.
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }, attempt)
    })
  }

  return {
    send,
    async close () {
      closed = true
      clearInterval(sweeper)
      const open = [...pools.values()]
      pools.clear()
      // Aborted, not waited for: an attempt hanging at a receiver would hold a shutdown for its
      // whole timeout after the grace period (outcome.ts, HttpSender.close).
      await Promise.all(open.map(async ({ pool }) => { await pool.destroy(new Error(CLIENT_CLOSED_ERROR)) }))
    },
  }
}
