/**
 * Sends one delivery attempt over undici and turns whatever happens into an `AttemptOutcome`
 * value (never a throw). Only this file touches the network for deliveries.
 *
 * - `request` on a keep-alive `Agent` (never `fetch`, never the global dispatcher, so
 *   HTTP_PROXY/HTTPS_PROXY are ignored: a webhook goes straight to its host).
 * - No redirect interceptor: a 3xx is the answer (contract §2: "redirects are never followed").
 * - One timer covers the whole attempt, from queueing on the pool through connect, headers and
 *   the body (contract §2: "no complete response within `timeout_ms`").
 * - The response body is read up to `maxResponseBytes` and the rest is dropped with the
 *   connection, so a 1 GB answer costs 4 KiB of memory.
 * - The SSRF guard (ssrf.ts) runs twice: on the URL host before anything is sent, and inside the
 *   connector, where names are resolved and every resolved address is checked.
 * - Error strings are fixed phrases chosen here, never an upstream message, so they cannot carry
 *   a header (an Authorization secret) or anything else from the request.
 */
import { performance } from 'node:perf_hooks'
import { Agent, buildConnector, request } from 'undici'
import { DEFAULTS } from '../config/defaults.js'
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
  /** Sent as `User-Agent` unless the request sets one (contract §1: `kejue-webhooks/<version>`). */
  userAgent: string
  /**
   * How much of a response body is kept as the attempt's excerpt.
   * @defaultValue 4096
   */
  maxResponseBytes?: number
  /**
   * Keep-alive connections per origin. A slow origin can hold at most this many; other origins
   * have their own pools, so it never delays them (contract §2).
   * @defaultValue 64
   */
  connections?: number
}

export interface HttpClientDeps {
  /** Name resolution for the connector; `dns.lookup` unless a test injects one. */
  lookup?: LookupAll
}

const DEFAULT_CONNECTIONS = 64
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
  UND_ERR_CLOSED: 'HTTP client is closed',
  UND_ERR_DESTROYED: 'HTTP client is closed',
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

/**
 * Reads at most `maxBytes` of a body; leaving the loop early destroys the stream, which closes
 * the connection instead of downloading the rest.
 */
async function readExcerpt (body: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  let truncated = false
  for await (const chunk of body) {
    const room = maxBytes - size
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room))
      size += room
      truncated = true
      break
    }
    chunks.push(chunk)
    size += chunk.length
  }
  // Lossy UTF-8; `stream: true` on a cut body drops a character split by the cut instead of
  // ending in U+FFFD. NUL becomes U+FFFD because PostgreSQL text cannot hold it.
  const text = new TextDecoder('utf-8').decode(Buffer.concat(chunks, size), { stream: truncated })
  return text.replaceAll('\u0000', '\uFFFD')
}

function buildHeaders (request: OutgoingRequest, userAgent: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': userAgent,
  }
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value
  return headers
}

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
  const connect: buildConnector.connector = (connectOptions, callback) => {
    // IP literals never reach `lookup` (Node connects to them directly), so check them here too.
    if (guard && isForbiddenHost(connectOptions.hostname)) {
      callback(forbiddenDestinationError(), null)
      return
    }
    baseConnect(connectOptions, callback)
  }
  const agent = new Agent({
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    pipelining: 1,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connect,
  })

  async function send (outgoing: OutgoingRequest): Promise<AttemptOutcome> {
    const startedAt = performance.now()
    const elapsedMs = (): number => Math.round(performance.now() - startedAt)

    const shape = checkUrlShape(outgoing.url)
    if (!shape.ok) return { kind: 'blocked', reason: 'invalid-url', durationMs: elapsedMs(), error: shape.reason }
    if (guard && isForbiddenHost(shape.url.hostname)) {
      return { kind: 'blocked', reason: 'private-address', durationMs: elapsedMs(), error: FORBIDDEN_DESTINATION_MESSAGE }
    }

    const { timeoutMs } = outgoing
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    let statusCode: number | null = null
    try {
      const response = await request(shape.url, {
        dispatcher: agent,
        method: 'POST',
        headers: buildHeaders(outgoing, options.userAgent),
        body: outgoing.body,
        signal: controller.signal,
        // undici's own timers are coarse (about 1 s) and count per phase; they stay a backstop
        // no larger than the attempt's timer.
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      statusCode = response.statusCode
      const responseExcerpt = await readExcerpt(response.body, maxResponseBytes)
      const durationMs = elapsedMs()
      if (statusCode >= 200 && statusCode < 300) {
        return { kind: 'delivered', statusCode, durationMs, responseExcerpt }
      }
      if (statusCode >= 500) {
        return { kind: 'failed', reason: 'server', statusCode, durationMs, error: `server responded ${statusCode}`, responseExcerpt }
      }
      // spec "Delivery & Retries": 4xx is permanent; contract §2: so is 3xx (never followed).
      return { kind: 'rejected', statusCode, durationMs, responseExcerpt }
    } catch (err) {
      const durationMs = elapsedMs()
      const cls = timedOut ? { kind: 'timeout' as const, error: timeoutMessage(timeoutMs) } : classifyError(err, timeoutMs)
      if (cls.kind === 'blocked') return { kind: 'blocked', reason: cls.reason, durationMs, error: cls.error }
      return { kind: 'failed', reason: cls.kind, statusCode, durationMs, error: cls.error, responseExcerpt: null }
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    send,
    async close () {
      await agent.close()
    },
  }
}
