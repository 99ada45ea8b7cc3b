/**
 * The benchmark's receiver, run as its own process so it does not share the engine's event loop.
 * Answers every POST with 200 and reports to the parent over IPC: its port, then, on request,
 * how many requests arrived, when the last one did, and the accept→arrival latencies of events
 * that carry `metadata.sent_at_ms` (performance.timeOrigin + performance.now() in the sender's
 * clock; both processes read the same system clock).
 */
import { createServer } from 'node:http'

let count = 0
let lastAt = 0
let latencies: number[] = []

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    count++
    lastAt = performance.timeOrigin + performance.now()
    const body = Buffer.concat(chunks).toString('utf8')
    const at = body.indexOf('"sent_at_ms":')
    if (at !== -1) {
      const sentAt = Number.parseFloat(body.slice(at + 13, body.indexOf('}', at)))
      latencies.push(lastAt - sentAt)
    }
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
  })
})
server.keepAliveTimeout = 60_000

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  process.send?.({ type: 'ready', port: address.port })
})

process.on('message', (message: { type: string }) => {
  if (message.type === 'count') process.send?.({ type: 'count', count })
  if (message.type === 'stats') process.send?.({ type: 'stats', count, latencies, lastAt })
  if (message.type === 'reset') {
    count = 0
    lastAt = 0
    latencies = []
    process.send?.({ type: 'reset' })
  }
  if (message.type === 'exit') server.close(() => process.exit(0))
})
