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
 * A thread that dies or stops answering is replaced and its attempts go once more on the new one
 * (createThreadedHttpClient); `serve` waits for the thread to load and falls back to the
 * in-process client if it cannot (startThreadedHttpClient).
 */
import { extname } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { CLIENT_CLOSED_ERROR, createHttpClient } from './http-client.js'
import type { HttpClientOptions } from './http-client.js'
import { networkFailure } from './outcome.js'
import type { AttemptOutcome, HttpSender, OutgoingRequest } from './outcome.js'

/** Main thread → sender thread. */
export type ToSender = { kind: 'send', requests: Array<[number, OutgoingRequest]> } | { kind: 'close' }
/** Sender thread → main thread. */
export type FromSender = { kind: 'ready' } | { kind: 'outcomes', outcomes: Array<[number, AttemptOutcome]> } | { kind: 'closed' }

const STOPPED_ERROR = 'sender thread stopped'
/** An attempt the thread has not answered this long after its own timeout means the thread is stuck. */
const DEADLINE_MARGIN_MS = 5_000
const DEADLINE_SWEEP_MS = 1_000
/** How long `startThreadedHttpClient` waits for the thread to load. */
const READY_TIMEOUT_MS = 30_000

// From dist/ the worker is the compiled .js. Under tsx (tests) it is the .ts, loaded by a small
// script that registers tsx in the thread first (a worker's `--import` does not reach its entry).
const FROM_SOURCE = extname(fileURLToPath(import.meta.url)) === '.ts'

/** What the thread is started with. */
export interface SenderWorkerData {
  client: HttpClientOptions
  /** Nice steps the thread lowers its priority by (thread-priority.ts); 0 leaves it. */
  nice: number
}

function spawnWorker (workerData: SenderWorkerData, source: string | undefined): Worker {
  if (source !== undefined) return new Worker(source, { eval: true, workerData })
  if (!FROM_SOURCE) return new Worker(new URL('./sender-worker.js', import.meta.url), { workerData })
  const tsx = import.meta.resolve('tsx/esm/api')
  const entry = new URL('./sender-worker.ts', import.meta.url).href
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}) })`, { eval: true, workerData })
}

function stopped (): AttemptOutcome {
  return networkFailure(STOPPED_ERROR, 0)
}

/** A bug in the sender (it threw, or a message would not clone): retryable, its kind only. */
export function senderFailed (err: unknown): AttemptOutcome {
  return networkFailure(`sender failed (${err instanceof Error ? err.name : 'unknown'})`, 0)
}

export interface ThreadedHttpClientDeps {
  /** The thread ended unasked (its error, or its exit code), or was stuck: for the log. */
  onStopped?: (reason: Error) => void
  /** Tests only: the thread's code (CommonJS, `eval`) instead of sender-worker. */
  workerSource?: string
  /**
   * Nice steps the thread lowers its own CPU priority by (docs/scaling.md, "Thread priorities").
   * @defaultValue 0
   */
  nice?: number
}

export interface ThreadedHttpSender extends HttpSender {
  /** Resolves once a thread has loaded its client; rejects if it could not. */
  ready (): Promise<void>
}

interface Pending {
  request: OutgoingRequest
  resolve: (outcome: AttemptOutcome) => void
  /** When the main thread gives up on the thread (performance.now()). */
  deadline: number
  /** Sent again after a thread died with it: a second death fails it. */
  resent: boolean
}

/**
 * An HttpSender with createHttpClient's behaviour, run in a worker thread. A thread that dies or
 * hangs (no answer `DEADLINE_MARGIN_MS` after an attempt's own timeout) is replaced, and what it
 * held is sent once more on the new one — at least once, as after any crash; a stopped thread is
 * never the endpoint's failure. An attempt that a second thread also dies with fails as a network
 * failure ("sender thread stopped").
 */
export function createThreadedHttpClient (options: HttpClientOptions, deps: ThreadedHttpClientDeps = {}): ThreadedHttpSender {
  const pending = new Map<number, Pending>()
  let nextId = 1
  let queue: number[] = []
  let worker: Worker | null = null
  let readyPromise: Promise<void> | null = null
  let closed = false
  let closing: Promise<void> | null = null

  const sweeper = setInterval(() => {
    const now = performance.now()
    for (const item of pending.values()) {
      if (item.deadline > now) continue
      const thread = worker
      deps.onStopped?.(new Error('sender thread stopped answering'))
      if (thread !== null) void thread.terminate()
      return
    }
  }, DEADLINE_SWEEP_MS)
  sweeper.unref()

  function settle (id: number, outcome: AttemptOutcome): void {
    const item = pending.get(id)
    if (item === undefined) return
    pending.delete(id)
    item.resolve(outcome)
  }

  function start (): Worker {
    const thread = spawnWorker({ client: options, nice: deps.nice ?? 0 }, deps.workerSource)
    let error: Error | null = null
    readyPromise = new Promise<void>((resolve, reject) => {
      thread.on('message', (message: FromSender) => {
        if (message.kind === 'ready') resolve()
        if (message.kind !== 'outcomes') return
        for (const [id, outcome] of message.outcomes) settle(id, outcome)
        if (pending.size === 0 && closing === null) thread.unref()
      })
      // An error ends the thread: 'exit' follows.
      thread.on('error', (err) => { error = err })
      thread.on('messageerror', (err) => { error = err; void thread.terminate() })
      thread.once('exit', (code) => {
        const reason = error ?? new Error(`sender thread exited with code ${code}`)
        reject(reason)
        if (worker === thread) worker = null
        if (closed) {
          for (const id of [...pending.keys()]) settle(id, stopped())
          return
        }
        deps.onStopped?.(reason)
        // What it held goes once more, on a new thread; what already went twice fails.
        for (const [id, item] of [...pending]) {
          if (item.resent) settle(id, stopped())
          else {
            item.resent = true
            item.deadline = performance.now() + item.request.timeoutMs + DEADLINE_MARGIN_MS
            enqueue(id)
          }
        }
      })
    })
    readyPromise.catch(() => {})
    return thread
  }

  function enqueue (id: number): void {
    // The attempts started in one synchronous stretch of the engine cross together.
    if (queue.length === 0) queueMicrotask(flush)
    queue.push(id)
  }

  function flush (): void {
    const ids = queue
    queue = []
    const requests: Array<[number, OutgoingRequest]> = []
    for (const id of ids) {
      const item = pending.get(id)
      if (item !== undefined) requests.push([id, item.request])
    }
    if (requests.length === 0) return
    worker ??= start()
    worker.ref()
    const message: ToSender = { kind: 'send', requests }
    try {
      worker.postMessage(message)
    } catch (err) {
      // Not cloneable (a bug): these attempts fail, the others go on.
      for (const [id] of requests) settle(id, senderFailed(err))
    }
  }

  return {
    send (request: OutgoingRequest): Promise<AttemptOutcome> {
      if (closed) return Promise.resolve(networkFailure(CLIENT_CLOSED_ERROR, 0))
      const id = nextId++
      return new Promise((resolve) => {
        pending.set(id, { request, resolve, deadline: performance.now() + request.timeoutMs + DEADLINE_MARGIN_MS, resent: false })
        enqueue(id)
      })
    },
    async ready (): Promise<void> {
      worker ??= start()
      const loading = readyPromise ?? Promise.resolve()
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([loading, new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => { reject(new Error(`sender thread did not start within ${READY_TIMEOUT_MS} ms`)) }, READY_TIMEOUT_MS)
        })])
      } finally {
        clearTimeout(timer)
      }
      if (pending.size === 0 && closing === null) worker?.unref()
    },
    async close (): Promise<void> {
      closed = true
      clearInterval(sweeper)
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

/**
 * A threaded sender whose thread has loaded, or the in-process client if it could not (with
 * `onFallback` told why): a broken thread must never turn into failed attempts.
 */
export async function startThreadedHttpClient (
  options: HttpClientOptions, deps: ThreadedHttpClientDeps & { onFallback: (reason: Error) => void },
): Promise<HttpSender> {
  const threaded = createThreadedHttpClient(options, deps)
  try {
    await threaded.ready()
    return threaded
  } catch (err) {
    await threaded.close().catch(() => {})
    deps.onFallback(err instanceof Error ? err : new Error(String(err)))
    return createHttpClient(options)
  }
}
