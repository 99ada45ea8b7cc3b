/**
 * The worker side of the sender thread (sender-thread.ts): an HTTP client of its own
 * (http-client.ts, the same options), fed batches of requests, answering in batches.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { lowerThreadPriority } from '../util/thread-priority.js'
import { createHttpClient } from './http-client.js'
import type { AttemptOutcome } from './outcome.js'
import { senderFailed } from './sender-thread.js'
import type { FromSender, SenderWorkerData, ToSender } from './sender-thread.js'

const port = parentPort
if (port === null) throw new Error('sender-worker.ts runs as a worker thread only')
const data = workerData as SenderWorkerData
lowerThreadPriority(data.nice)
const client = createHttpClient(data.client)
const ready: FromSender = { kind: 'ready' }
port.postMessage(ready)

// Outcomes of one turn go back in one message: responses parsed in the same I/O phase share it.
let outcomes: Array<[number, AttemptOutcome]> = []
function answer (id: number, outcome: AttemptOutcome): void {
  if (outcomes.length === 0) setImmediate(flush)
  outcomes.push([id, outcome])
}
function flush (): void {
  const message: FromSender = { kind: 'outcomes', outcomes }
  outcomes = []
  port?.postMessage(message)
}

port.on('message', (message: ToSender) => {
  if (message.kind === 'send') {
    for (const [id, request] of message.requests) {
      // send never rejects (its outcomes are values); a bug that made it throw is a network failure.
      client.send(request).then((outcome) => { answer(id, outcome) }, (err: unknown) => { answer(id, senderFailed(err)) })
    }
    return
  }
  void client.close().catch(() => {}).finally(() => {
    if (outcomes.length > 0) flush()
    const closed: FromSender = { kind: 'closed' }
    port.postMessage(closed)
    port.close()
  })
})
