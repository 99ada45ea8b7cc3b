/**
 * `kejue-webhooks listen --forward-to <url>`, like `stripe listen` (docs/receiving.md, "Local
 * development"): one streaming connection to the service (POST /api/v1/cli-sessions, server-sent
 * events); every delivery pushed down it is POSTed with its original body and headers to the local
 * app, and the app's status goes back (POST …/results) as the attempt's response, so a local 500
 * is retried like any other. Ctrl-C or SIGTERM ends the session: its webhook disappears and its
 * pending deliveries fail with "cli session ended". No private-network setting is needed: the
 * service never dials the local address.
 */
import { coerceError } from '../../errors.js'
import type { CliPush, CliReport } from '../../delivery/cli-hub.js'

export interface ForwardOptions {
  forwardTo: string
  /** The service, e.g. http://127.0.0.1:8080 */
  serviceUrl: string
  workspaceKey: string
  events: string[]
}

export interface ForwardIo {
  out (line: string): void
  err (line: string): void
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal
}

const EXCERPT_BYTES = 1_024
/** DELETE on the way out: short, so Ctrl-C never hangs on a dead service. */
const END_TIMEOUT_MS = 5_000

interface SessionInfo { id: string, secret: string, events: string[] }

/** Yields `{event, data}` for each server-sent event of `body`. */
async function * readEvents (body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string, data: string }> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let end: number
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
      }
      if (data.length > 0) yield { event, data: data.join('\n') }
    }
  }
}

function describeFetchError (err: unknown): string {
  const error = coerceError(err)
  const cause = (error as { cause?: { code?: unknown } }).cause
  if (error.name === 'TimeoutError') return 'timed out'
  return typeof cause?.code === 'string' ? `${cause.code}` : error.message
}

/** The app's Retry-After, when it sent one (left out otherwise, so older services accept the report). */
function retryAfterOf (response: Response): { retry_after?: string } {
  const value = response.headers.get('retry-after')
  // The service takes 200 characters; a longer value is no valid Retry-After anyway.
  return value === null || value.length > 200 ? {} : { retry_after: value }
}

/** POSTs one delivery to the local app as the service would have; what happened, as a report. */
async function forward (delivery: CliPush, forwardTo: string): Promise<CliReport> {
  const started = performance.now()
  const base = { delivery_id: delivery.delivery_id, lease_token: delivery.lease_token, attempt: delivery.attempt }
  try {
    const response = await fetch(forwardTo, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(delivery.timeout_ms),
    })
    const text = await response.text()
    return {
      ...base,
      status_code: response.status,
      duration_ms: Math.round(performance.now() - started),
      response_excerpt: text.slice(0, EXCERPT_BYTES),
      ...retryAfterOf(response),
    }
  } catch (err) {
    return { ...base, status_code: null, duration_ms: Math.round(performance.now() - started), error: `forwarding failed: ${describeFetchError(err)}` }
  }
}

function deliveryLine (delivery: CliPush, report: CliReport, recorded: string): string {
  const outcome = report.status_code === null ? (report.error ?? 'failed') : `${report.status_code}`
  return `${new Date().toISOString()}  ${delivery.event.padEnd(17)} ${delivery.delivery_id}  attempt ${delivery.attempt}  → ${outcome}  (${report.duration_ms} ms)${recorded}`
}

/** Runs until the signal aborts or the service ends the stream; returns the exit code. */
export async function runForward (options: ForwardOptions, io: ForwardIo): Promise<number> {
  const api = `${options.serviceUrl.replace(/\/+$/, '')}/api/v1/cli-sessions`
  const headers = { 'x-api-key': options.workspaceKey, 'content-type': 'application/json' }
  let response: Response
  try {
    response = await fetch(api, { method: 'POST', headers: { ...headers, accept: 'text/event-stream' }, body: JSON.stringify({ events: options.events }), signal: io.signal })
  } catch (err) {
    if (io.signal.aborted) return 0
    io.err(`kejue-webhooks listen: cannot reach ${options.serviceUrl}: ${describeFetchError(err)}`)
    return 1
  }
  if (!response.ok || response.body === null) {
    io.err(`kejue-webhooks listen: the service answered ${response.status}: ${await response.text()}`)
    return 1
  }
  let session: SessionInfo | null = null
  const inFlight = new Set<Promise<void>>()

  async function handle (delivery: CliPush, sessionId: string): Promise<void> {
    const report = await forward(delivery, options.forwardTo)
    let recorded = ''
    try {
      const answer = await fetch(`${api}/${sessionId}/results`, { method: 'POST', headers, body: JSON.stringify(report) })
      if (answer.status !== 204) recorded = `  (not recorded: ${answer.status} ${(await answer.text()).slice(0, 200)})`
    } catch (err) {
      recorded = `  (not recorded: ${describeFetchError(err)})`
    }
    io.out(deliveryLine(delivery, report, recorded))
  }

  try {
    for await (const message of readEvents(response.body)) {
      if (message.event === 'session') {
        session = JSON.parse(message.data) as SessionInfo
        io.out(`Ready. Your webhook signing secret is ${session.secret} (session ${session.id})`)
        io.out(`Forwarding ${session.events.join(', ')} to ${options.forwardTo}. Ctrl-C to stop.`)
      } else if (message.event === 'delivery' && session !== null) {
        const task = handle(JSON.parse(message.data) as CliPush, session.id)
        inFlight.add(task)
        void task.finally(() => inFlight.delete(task))
      }
    }
    if (!io.signal.aborted) {
      io.err('kejue-webhooks listen: the service closed the session')
      return 1
    }
  } catch (err) {
    if (!io.signal.aborted) {
      io.err(`kejue-webhooks listen: the connection to the service broke: ${describeFetchError(err)}`)
      return 1
    }
  } finally {
    await Promise.allSettled([...inFlight])
    if (session !== null) {
      // Closing the stream ends the session too; DELETE makes it immediate whichever process holds it.
      await fetch(`${api}/${session.id}`, { method: 'DELETE', headers: { 'x-api-key': options.workspaceKey }, signal: AbortSignal.timeout(END_TIMEOUT_MS) })
        .catch(() => undefined)
    }
  }
  io.out('Session ended: its webhook is gone.')
  return 0
}
