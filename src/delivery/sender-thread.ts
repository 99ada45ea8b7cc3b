/**
 * The sender on a thread of its own (docs/scaling.md, "Sender thread"). The event loop of a
 * `serve` process runs the API, the store and the engine; the HTTP work of each attempt —
 * undici's pools, writing the request, parsing the response, the timers, the SSRF guard's lookups
 * — is ~13 % of an event's CPU there, and on a busy process that loop is the bottleneck while
 * other cores have time. Here the same HTTP client (http-client.ts, same options, same per-webhook
 * pools and limits) runs in a worker thread. Requests made in one turn of the event loop go over
 * in one message, outcomes come back likewise, so the cost of crossing is per batch, not per
 * attempt. Outcomes are values, as from the client itself: an attempt's duration is measured in
 * the thread, from the request's start there.
 *
 * If the thread dies, its attempts in flight end as network failures (retried like any other)
 * and the next request starts a new thread.
 */
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { HttpClientOptions } from './http-client.js'
import type { AttemptOutcome, HttpSender, OutgoingRequest } from './outcome.js'

/** Main thread → sender thread. */
export type ToSender = { kind: 'send', requests: Array<[number, OutgoingRequest]> } | { kind: 'close' }
/** Sender thread → main thread. */
export type FromSender = { kind: 'outcomes', outcomes: Array<[number, AttemptOutcome]> } | { kind: 'closed' }

const STOPPED_ERROR = 'sender thread stopped'

// From dist/ the worker is the compiled .js. Under tsx (tests) it is the .ts, loaded by a small
// script that registers tsx in the thread first (a worker's `--import` does not reach its entry).
const FROM_SOURCE = extname(fileURLToPath(import.meta.url)) === '.ts'

function spawnWorker (options: HttpClientOptions): Worker {
  if (!FROM_SOURCE) return new Worker(new URL('./sender-worker.js', import.meta.url), { workerData: options })
  const tsx = import.meta.resolve('tsx/esm/api')
  const entry = new URL('./sender-worker.ts', import.meta.url).href
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}) })`, { eval: true, workerData: options })
}

function stopped (durationMs = 0): AttemptOutcome {
  return { kind: 'failed', reason: 'network', statusCode: null, durationMs, error: STOPPED_ERROR, responseExcerpt: null }
}

export interface ThreadedHttpClientDeps {
  /** The thread ended unasked (its error, or its exit code): for the log. */
  onStopped?: (reason: Error) => void
}

/** An HttpSender with createHttpClient's behaviour, run in a worker thread. */
export function createThreadedHttpClient (options: HttpClientOptions, deps: ThreadedHttpClientDeps = {}): HttpSender {
  const pending = new Map<number, (outcome: AttemptOutcome) => void>()
  let nextId = 1
  let queue: Array<[number, OutgoingRequest]> = []
  let worker: Worker | null = null
  let closed = false
  let closing: Promise<void> | null = null

  function failPending (): void {
    for (const resolve of pending.values()) resolve(stopped())
    pending.clear()
  }

  function start (): Worker {
    const thread = spawnWorker(options)
    thread.on('message', (message: FromSender) => {
      if (message.kind !== 'outcomes') return
      for (const [id, outcome] of message.outcomes) {
        const resolve = pending.get(id)
        pending.delete(id)
        resolve?.(outcome)
      }
      if (pending.size === 0) thread.unref()
    })
    // An error ends the thread: 'exit' follows and fails what it held.
    let error: Error | null = null
    thread.on('error', (err) => { error = err })
    thread.once('exit', (code) => {
      if (worker === thread) worker = null
      if (!closed) deps.onStopped?.(error ?? new Error(`sender thread exited with code ${code}`))
      failPending()
    })
    return thread
  }

  function flush (): void {
    const requests = queue
    queue = []
    if (requests.length === 0) return
    worker ??= start()
    worker.ref()
    const message: ToSender = { kind: 'send', requests }
    worker.postMessage(message)
  }

  return {
    send (request: OutgoingRequest): Promise<AttemptOutcome> {
      if (closed) return Promise.resolve({ kind: 'failed', reason: 'network', statusCode: null, durationMs: 0, error: 'HTTP client is closed', responseExcerpt: null })
      const id = nextId++
      return new Promise((resolve) => {
        pending.set(id, resolve)
        // The attempts started in one synchronous stretch of the engine cross together.
        if (queue.length === 0) queueMicrotask(flush)
        queue.push([id, request])
      })
    },
    async close (): Promise<void> {
      closed = true
      closing ??= (async () => {
        flush()
        const thread = worker
        if (thread === null) return
        thread.ref()
        await new Promise<void>((resolve) => {
          thread.once('exit', () => { resolve() })
          thread.on('message', (message: FromSender) => { if (message.kind === 'closed') void thread.terminate() })
          const message: ToSender = { kind: 'close' }
          thread.postMessage(message)
        })
      })()
      await closing
    },
  }
}
