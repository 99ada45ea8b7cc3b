/**
 * A scripted webhook receiver for tests: a real HTTP server on 127.0.0.1, port 0.
 *
 * It records every request (method, path, headers, raw body bytes, arrival time) and answers
 * from a script. A list of statuses is played in order and its last entry repeats:
 *
 * @example
 * const receiver = await startReceiver({ respond: [503, 503, 200] })
 * try {
 *   // ... point a webhook at receiver.url and deliver ...
 *   const [first, second] = await receiver.waitForRequests(2)
 *   assert.equal(second.headers['x-kejue-attempt'], '2')
 * } finally {
 *   await receiver.close()
 * }
 *
 * Entries may also be replies (`{ status, headers, body, delayMs, hang }`) or a function of the
 * request, for anything the list cannot say:
 * - `hang: 'no-response'` never answers (the client's timeout must end the attempt);
 * - `hang: 'after-headers'` sends status and headers, then never finishes the body;
 * - `write(res)` takes over the raw response (huge or endless bodies, resets, ...).
 * `close()` cuts every open connection, hanging ones included, so tests always end.
 */
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'

export interface ReceivedRequest {
  method: string
  /** Path and query, as the request line had it. */
  path: string
  /** Lower-cased header names, as Node parses them. */
  headers: IncomingHttpHeaders
  /** Names and values in wire order and case. */
  rawHeaders: string[]
  /** The body exactly as it arrived. */
  body: Buffer
  /** `Date.now()` when the request line and headers arrived. */
  receivedAt: number
  /** Which request this was, from 0. */
  index: number
}

export interface ReceiverReply {
  status: number
  headers?: Record<string, string>
  body?: string | Buffer
  /** Wait this long before answering. */
  delayMs?: number
  /** Never answer, or answer headers and stall the body. */
  hang?: 'no-response' | 'after-headers'
  /** Write the response yourself; everything else in the reply is ignored. */
  write?: (res: ServerResponse) => void
}

export type ReceiverScript =
  | Array<number | ReceiverReply>
  | ((request: ReceivedRequest) => number | ReceiverReply | Promise<number | ReceiverReply>)

export interface ReceiverOptions {
  /** @defaultValue [200] */
  respond?: ReceiverScript
  /** The path `url` points at. @defaultValue '/hook' */
  path?: string
}

export interface Receiver {
  /** `http://127.0.0.1:<port><path>` */
  url: string
  port: number
  /** Every request so far, in arrival order. */
  requests: ReceivedRequest[]
  /** Resolves once `count` requests have arrived (fully read); rejects after `timeoutMs`. */
  waitForRequests (count: number, timeoutMs?: number): Promise<ReceivedRequest[]>
  /** Stops the server and destroys every connection. Safe to call twice. */
  close (): Promise<void>
}

function pick (script: ReceiverScript, request: ReceivedRequest): number | ReceiverReply | Promise<number | ReceiverReply> {
  if (typeof script === 'function') return script(request)
  const entry = script[Math.min(request.index, script.length - 1)]
  return entry ?? 200
}

export async function startReceiver (options: ReceiverOptions = {}): Promise<Receiver> {
  const script = options.respond ?? [200]
  const requests: ReceivedRequest[] = []
  const waiters: Array<() => void> = []
  let closed = false

  const server = http.createServer((req, res) => {
    const receivedAt = Date.now()
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
        receivedAt,
        index: requests.length,
      }
      requests.push(received)
      for (const wake of waiters.splice(0)) wake()
      void answer(received, res)
    })
  })

  async function answer (received: ReceivedRequest, res: ServerResponse): Promise<void> {
    const picked = await pick(script, received)
    const reply: ReceiverReply = typeof picked === 'number' ? { status: picked } : picked
    if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs))
    if (closed || res.destroyed) return
    if (reply.write !== undefined) {
      reply.write(res)
      return
    }
    if (reply.hang === 'no-response') return
    res.writeHead(reply.status, reply.headers)
    if (reply.hang === 'after-headers') {
      res.flushHeaders()
      res.write(' ') // one byte, so the client has started on the body
      return
    }
    res.end(reply.body ?? '')
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}${options.path ?? '/hook'}`,
    port,
    requests,
    async waitForRequests (count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs
      while (requests.length < count) {
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`receiver: expected ${count} requests, got ${requests.length} within ${timeoutMs} ms`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
      return requests.slice(0, count)
    },
    async close () {
      if (closed) return
      closed = true
      const done = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await done
    },
  }
}
