/**
 * The attempt's timer ends an attempt at timeoutMs even before undici has started it on a
 * connection (still resolving/connecting, or queued behind a busy connection), and such an
 * attempt is then never sent (docs/wire-format.md#delivery-policy: one timeout covers the whole attempt).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { LookupAddress } from 'node:dns'
import { createHttpClient } from '../../src/delivery/http-client.js'
import type { AttemptOutcome, OutgoingRequest } from '../../src/delivery/outcome.js'
import type { LookupAll } from '../../src/delivery/ssrf.js'
import { waitFor } from '../helpers/wait-for.js'

const USER_AGENT = 'kejue-webhooks/0.0.0-test'

function outgoing (url: string, timeoutMs: number): OutgoingRequest {
  return { webhookId: 'wh_test', url, headers: { 'X-Kejue-Event': 'call.ended' }, body: '{"event":"call.ended"}', timeoutMs }
}

function expectTimeout (outcome: AttemptOutcome, timeoutMs: number): number {
  assert.equal(outcome.kind, 'failed', JSON.stringify(outcome))
  assert.ok(outcome.kind === 'failed')
  assert.equal(outcome.reason, 'timeout')
  assert.equal(outcome.statusCode, null)
  assert.equal(outcome.error, `no complete response within ${timeoutMs} ms`)
  return outcome.durationMs
}

/** A TCP server that never answers and keeps every byte it is sent. */
async function silentServer (): Promise<{ port: number, received: () => string, close: () => Promise<void> }> {
  let data = ''
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('data', (chunk: Buffer) => { data += chunk.toString('latin1') })
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    received: () => data,
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

test('an attempt still resolving its host ends at timeoutMs, and is not sent once connected', async () => {
  const server = await silentServer()
  let release: ((answers: LookupAddress[]) => void) | undefined
  const lookup: LookupAll = (_hostname, _options, callback) => {
    release = (answers) => callback(null, answers)
  }
  const client = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT }, { lookup })
  try {
    const durationMs = expectTimeout(await client.send(outgoing(`http://stall.test:${server.port}/`, 400)), 400)
    // Its own 400 ms, not undici's 10 s connect timeout; the upper bound leaves room for a loaded machine.
    assert.ok(durationMs >= 390 && durationMs <= 5_000, `durationMs ${durationMs}`)
    assert.ok(release !== undefined, 'the lookup was called')
    // The name resolves late: the connection opens, but the ended attempt must not go out on it.
    release([{ address: '127.0.0.1', family: 4 }])
    // Closing the client lets whatever it still holds go out first; after it nothing can.
    await client.close()
    assert.equal(server.received(), '')
  } finally {
    await client.close()
    await server.close()
  }
})

test('an attempt queued behind a busy connection ends at its own timeoutMs and is never sent', async () => {
  const server = await silentServer()
  const client = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT, connections: 1 })
  const url = `http://127.0.0.1:${server.port}/`
  try {
    const first = client.send(outgoing(url, 5_000))
    await waitFor('the first attempt to hold the connection', () => server.received().includes('POST / '))
    const queued = expectTimeout(await client.send(outgoing(url, 300)), 300)
    assert.ok(queued >= 290 && queued < 5_000, `queued attempt durationMs ${queued} (its own 300 ms, before the first attempt's 5000 ms)`)
    expectTimeout(await first, 5_000)
    // The first attempt's connection is gone. Closing the client lets whatever it still holds go
    // out first; the queued attempt, ended, must not be among it.
    await client.close()
    assert.equal(server.received().split('POST / ').length - 1, 1)
  } finally {
    await client.close()
    await server.close()
  }
})
