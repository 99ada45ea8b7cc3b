import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { createHttpClient, SIGNING_FAILED_ERROR } from '../../src/delivery/http-client.js'
import { verifySignature } from '../../src/receiver/verify.js'
import type { HttpClientOptions } from '../../src/delivery/http-client.js'
import { createThreadedHttpClient } from '../../src/delivery/sender-thread.js'
import type { AttemptOutcome, HttpSender, OutgoingRequest } from '../../src/delivery/outcome.js'
import type { LookupAll } from '../../src/delivery/ssrf.js'
import { startReceiver } from '../helpers/receiver.js'

const USER_AGENT = 'kejue-webhooks/0.0.0-test'
const BODY = '{"event":"call.ended","event_id":"evt_1","data":{"note":"héllo ✓"}}'

function outgoing (url: string, extra: Partial<OutgoingRequest> = {}): OutgoingRequest {
  return { webhookId: 'wh_test', url, headers: { 'X-Kejue-Event': 'call.ended' }, body: BODY, timeoutMs: 5_000, ...extra }
}

function expectKind<K extends AttemptOutcome['kind']> (outcome: AttemptOutcome, kind: K): Extract<AttemptOutcome, { kind: K }> {
  assert.equal(outcome.kind, kind, `expected ${kind}, got ${JSON.stringify(outcome)}`)
  return outcome as Extract<AttemptOutcome, { kind: K }>
}

/** A port nothing listens on: bind one, then free it. */
async function closedPort (): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// The same behaviour whether the client runs on the event loop or on its thread (sender-thread.ts).
const SENDERS: Array<[string, (options: HttpClientOptions) => HttpSender]> = [
  ['on the event loop', createHttpClient],
  ['on its thread', createThreadedHttpClient],
]

for (const [where, make] of SENDERS) describe(`http client ${where}, private networks allowed (local receivers)`, () => {
  let client: HttpSender
  before(() => {
    client = make({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  })
  after(async () => {
    await client.close()
  })

  test('a 200 is delivered, with the response excerpt and a measured duration', async () => {
    const receiver = await startReceiver({ respond: [{ status: 200, body: 'thanks', delayMs: 50 }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url)), 'delivered')
      assert.equal(outcome.statusCode, 200)
      assert.equal(outcome.responseExcerpt, 'thanks')
      assert.ok(outcome.durationMs >= 40 && outcome.durationMs < 2_000, `durationMs ${outcome.durationMs}`)
    } finally {
      await receiver.close()
    }
  })

  test('headers and body arrive byte-exact, as one POST with content-type application/json', async () => {
    const receiver = await startReceiver()
    try {
      const headers = { 'X-Kejue-Event': 'call.ended', 'X-Kejue-Signature': 'sha256=abc', 'X-Kejue-Attempt': '2' }
      expectKind(await client.send(outgoing(receiver.url, { headers })), 'delivered')
      assert.equal(receiver.requests.length, 1)
      const [got] = receiver.requests
      assert.ok(got !== undefined)
      assert.equal(got.method, 'POST')
      assert.equal(got.path, '/hook')
      assert.ok(got.body.equals(Buffer.from(BODY, 'utf8')))
      assert.equal(got.headers['content-type'], 'application/json')
      assert.equal(got.headers['content-length'], String(Buffer.byteLength(BODY)))
      assert.equal(got.headers['user-agent'], USER_AGENT)
      assert.equal(got.headers['x-kejue-event'], 'call.ended')
      assert.equal(got.headers['x-kejue-signature'], 'sha256=abc')
      assert.equal(got.headers['x-kejue-attempt'], '2')
    } finally {
      await receiver.close()
    }
  })

  test('a request with signing is signed as it leaves: the signature verifies over the bytes received, the timestamp is the one given', async () => {
    const receiver = await startReceiver()
    try {
      const signing = { method: 'hmac_sha256' as const, secret: 'whsec_new', previousSecret: 'whsec_old', timestampMs: 1_796_000_000_000, messageId: 'dlv_1' }
      // A custom header of the same name loses to the signature.
      expectKind(await client.send(outgoing(receiver.url, { headers: { 'X-Kejue-Signature': 'forged' }, signing })), 'delivered')
      const [got] = receiver.requests
      assert.ok(got !== undefined)
      assert.equal(got.headers['x-kejue-timestamp'], '1796000000000')
      // During the rotation's overlap: X-Kejue-Signature with the old secret, -Next with the new.
      for (const secret of ['whsec_old', 'whsec_new']) verifySignature(got.body, got.headers, { secret, now: signing.timestampMs })
      assert.throws(() => { verifySignature(got.body, got.headers, { secret: 'whsec_other', now: signing.timestampMs }) })
    } finally {
      await receiver.close()
    }
  })

  test('a request that cannot be signed is a retryable failure that sends nothing and names no secret', async () => {
    const receiver = await startReceiver()
    try {
      const signing = { method: 'standard_webhooks' as const, secret: 'not-base64-secret', previousSecret: null, timestampMs: Date.now(), messageId: 'dlv_1' }
      const outcome = expectKind(await client.send(outgoing(receiver.url, { signing })), 'failed')
      assert.equal(outcome.reason, 'network')
      assert.equal(outcome.error, SIGNING_FAILED_ERROR)
      assert.equal(receiver.requests.length, 0)
    } finally {
      await receiver.close()
    }
  })

  test('a 503 is a server failure with its status and excerpt', async () => {
    const receiver = await startReceiver({ respond: [{ status: 503, body: 'busy' }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url)), 'failed')
      assert.equal(outcome.reason, 'server')
      assert.equal(outcome.statusCode, 503)
      assert.equal(outcome.error, 'server responded 503')
      assert.equal(outcome.responseExcerpt, 'busy')
    } finally {
      await receiver.close()
    }
  })

  for (const status of [400, 404, 429]) {
    test(`a ${status} is rejected (permanent)`, async () => {
      const receiver = await startReceiver({ respond: [{ status, body: 'no' }] })
      try {
        const outcome = expectKind(await client.send(outgoing(receiver.url)), 'rejected')
        assert.equal(outcome.statusCode, status)
        assert.equal(outcome.responseExcerpt, 'no')
      } finally {
        await receiver.close()
      }
    })
  }

  test('a 302 is rejected and its Location is not followed', async () => {
    const target = await startReceiver()
    const receiver = await startReceiver({ respond: [{ status: 302, headers: { location: target.url } }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url)), 'rejected')
      assert.equal(outcome.statusCode, 302)
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(receiver.requests.length, 1)
      assert.equal(target.requests.length, 0)
    } finally {
      await receiver.close()
      await target.close()
    }
  })

  test('a receiver that never answers times out at timeoutMs', async () => {
    const receiver = await startReceiver({ respond: [{ status: 200, hang: 'no-response' }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url, { timeoutMs: 1_000 })), 'failed')
      assert.equal(outcome.reason, 'timeout')
      assert.equal(outcome.statusCode, null)
      assert.equal(outcome.error, 'no complete response within 1000 ms')
      assert.ok(outcome.durationMs >= 950 && outcome.durationMs <= 1_600, `durationMs ${outcome.durationMs}`)
    } finally {
      await receiver.close()
    }
  })

  test('headers then a stalled body is a timeout too, within timeoutMs', async () => {
    const receiver = await startReceiver({ respond: [{ status: 200, hang: 'after-headers' }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url, { timeoutMs: 1_000 })), 'failed')
      assert.equal(outcome.reason, 'timeout')
      assert.equal(outcome.statusCode, 200)
      assert.ok(outcome.durationMs >= 950 && outcome.durationMs <= 1_600, `durationMs ${outcome.durationMs}`)
    } finally {
      await receiver.close()
    }
  })

  test('one timer covers the whole attempt: slow headers plus a stalled body still end at timeoutMs', async () => {
    // Headers after 700 ms, then nothing: per-phase timers alone would end this at 1700 ms or later.
    const receiver = await startReceiver({ respond: [{ status: 200, delayMs: 700, hang: 'after-headers' }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url, { timeoutMs: 1_000 })), 'failed')
      assert.equal(outcome.reason, 'timeout')
      assert.ok(outcome.durationMs >= 950 && outcome.durationMs <= 1_550, `durationMs ${outcome.durationMs}`)
    } finally {
      await receiver.close()
    }
  })

  test('a slow answer inside timeoutMs is delivered', async () => {
    const receiver = await startReceiver({ respond: [{ status: 204, delayMs: 400 }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url, { timeoutMs: 1_000 })), 'delivered')
      assert.equal(outcome.statusCode, 204)
    } finally {
      await receiver.close()
    }
  })

  test('a refused connection is a network failure', async () => {
    const port = await closedPort()
    const outcome = expectKind(await client.send(outgoing(`http://127.0.0.1:${port}/hook`)), 'failed')
    assert.equal(outcome.reason, 'network')
    assert.equal(outcome.statusCode, null)
    assert.equal(outcome.error, 'connection refused')
  })

  test('a connection closed before any response is a network failure', async () => {
    const receiver = await startReceiver({ respond: [{ status: 200, write: (res) => res.socket?.destroy() }] })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url)), 'failed')
      assert.equal(outcome.reason, 'network')
      assert.match(outcome.error, /^connection (closed|reset)/)
    } finally {
      await receiver.close()
    }
  })

  test('a huge (endless) response body is cut at the cap and not downloaded', async () => {
    let bytesWritten = 0
    let socketClosed = false
    const chunk = Buffer.alloc(64 * 1024, 'a')
    const receiver = await startReceiver({
      respond: [{
        status: 200,
        write: (res) => {
          res.writeHead(200, { 'content-type': 'text/plain' })
          res.on('close', () => { socketClosed = true })
          const pump = (): void => {
            // Stop at 256 MiB so a broken client cannot hang the test forever.
            while (!res.destroyed && bytesWritten < 256 * 1024 * 1024) {
              bytesWritten += chunk.length
              if (!res.write(chunk)) {
                res.once('drain', pump)
                return
              }
            }
          }
          pump()
        },
      }],
    })
    try {
      const outcome = expectKind(await client.send(outgoing(receiver.url)), 'delivered')
      assert.equal(outcome.responseExcerpt, 'a'.repeat(4_096))
      const deadline = Date.now() + 2_000
      while (!socketClosed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.ok(socketClosed, 'the client should drop the connection')
      assert.ok(bytesWritten < 32 * 1024 * 1024, `the server got to write ${bytesWritten} bytes`)
    } finally {
      await receiver.close()
    }
  })

  test('maxResponseBytes sets the cap; a cut multi-byte character is dropped, not mangled', async () => {
    const small = make({ allowPrivateNetworks: true, userAgent: USER_AGENT, maxResponseBytes: 5 })
    const receiver = await startReceiver({ respond: [{ status: 400, body: 'abcdé and more' }] })
    try {
      const outcome = expectKind(await small.send(outgoing(receiver.url)), 'rejected')
      // 'abcd' is 4 bytes and 'é' is 2, so the 5-byte cut splits it.
      assert.equal(outcome.responseExcerpt, 'abcd')
    } finally {
      await receiver.close()
      await small.close()
    }
  })

  test('HTTP_PROXY in the environment does not route deliveries through a proxy', async () => {
    const proxy = await startReceiver({ respond: [502] })
    const receiver = await startReceiver()
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy }
    process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`
    process.env.http_proxy = `http://127.0.0.1:${proxy.port}`
    const fresh = make({ allowPrivateNetworks: true, userAgent: USER_AGENT })
    try {
      expectKind(await fresh.send(outgoing(receiver.url)), 'delivered')
      assert.equal(receiver.requests.length, 1)
      assert.equal(proxy.requests.length, 0)
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
      await fresh.close()
      await proxy.close()
      await receiver.close()
    }
  })

  test('a bad URL or scheme is blocked as invalid-url without sending', async () => {
    for (const url of ['not a url', 'ftp://127.0.0.1/x', 'http://user:pw@127.0.0.1/x', `http://127.0.0.1/${'a'.repeat(2_100)}`]) {
      const outcome = expectKind(await client.send(outgoing(url)), 'blocked')
      assert.equal(outcome.reason, 'invalid-url', url)
    }
  })
})

describe('http client, SSRF guard on (private networks refused)', () => {
  // 'hooks.example.test' resolves (by injection) to the local receiver, as a hostile DNS record
  // pointing a public-looking name at an internal address would.
  const lookupTo = (addresses: string[]): LookupAll => (_hostname, _options, callback) => {
    callback(null, addresses.map((address) => ({ address, family: net.isIP(address) })))
  }

  const FORBIDDEN = {
    kind: 'blocked',
    reason: 'private-address',
    error: 'destination address is not allowed (private, loopback or internal)',
  }

  async function expectBlocked (client: HttpSender, url: string): Promise<void> {
    const outcome = await client.send(outgoing(url))
    assert.deepEqual({ ...outcome, durationMs: 0 }, { ...FORBIDDEN, durationMs: 0 }, url)
  }

  for (const [where, make] of SENDERS) test(`a webhook to 127.0.0.1, localhost or another spelling is blocked and nothing is sent (client ${where})`, async () => {
    const client = make({ allowPrivateNetworks: false, userAgent: USER_AGENT })
    const receiver = await startReceiver()
    try {
      for (const host of ['127.0.0.1', 'localhost', '2130706433', '0x7f.1', '127.1', '[::ffff:127.0.0.1]', 'LOCALHOST.']) {
        await expectBlocked(client, `http://${host}:${receiver.port}/hook`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(receiver.requests.length, 0)
    } finally {
      await client.close()
      await receiver.close()
    }
  })

  test('a name that resolves to an internal address is refused at connect time', async () => {
    const client = createHttpClient({ allowPrivateNetworks: false, userAgent: USER_AGENT }, { lookup: lookupTo(['127.0.0.1']) })
    const receiver = await startReceiver()
    try {
      await expectBlocked(client, `http://hooks.example.test:${receiver.port}/hook`)
      assert.equal(receiver.requests.length, 0)
    } finally {
      await client.close()
      await receiver.close()
    }
  })

  test('a name with any internal address among public ones is refused as a whole', async () => {
    const client = createHttpClient({ allowPrivateNetworks: false, userAgent: USER_AGENT }, { lookup: lookupTo(['127.0.0.1', '8.8.8.8']) })
    const receiver = await startReceiver()
    try {
      await expectBlocked(client, `http://hooks.example.test:${receiver.port}/hook`)
      assert.equal(receiver.requests.length, 0)
    } finally {
      await client.close()
      await receiver.close()
    }
  })

  test('the same name is delivered when private networks are allowed (the guard is what refused it)', async () => {
    const client = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT }, { lookup: lookupTo(['127.0.0.1']) })
    const receiver = await startReceiver()
    try {
      expectKind(await client.send(outgoing(`http://hooks.example.test:${receiver.port}/hook`)), 'delivered')
      assert.equal(receiver.requests.length, 1)
      assert.equal(receiver.requests[0]?.headers.host, `hooks.example.test:${receiver.port}`)
    } finally {
      await client.close()
      await receiver.close()
    }
  })

  test('a DNS failure is a network failure (retried), not a block', async () => {
    const notFound: LookupAll = (_hostname, _options, callback) => {
      const err: NodeJS.ErrnoException = new Error('getaddrinfo ENOTFOUND hooks.example.test')
      err.code = 'ENOTFOUND'
      callback(err, [])
    }
    const client = createHttpClient({ allowPrivateNetworks: false, userAgent: USER_AGENT }, { lookup: notFound })
    try {
      const outcome = expectKind(await client.send(outgoing('http://hooks.example.test/hook')), 'failed')
      assert.equal(outcome.reason, 'network')
      assert.equal(outcome.error, 'host not found (DNS lookup failed)')
    } finally {
      await client.close()
    }
  })
})

test('error strings never carry request headers', async () => {
  // A server that answers garbage makes undici fail with a parser error; the Authorization
  // value must not surface in the outcome whatever the failure.
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end('NOT HTTP AT ALL\r\n\r\n'))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const client = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  try {
    const secret = 'Bearer s3cr3t-value'
    const outcome = expectKind(await client.send(outgoing(`http://127.0.0.1:${port}/`, { headers: { Authorization: secret } })), 'failed')
    assert.equal(outcome.reason, 'network')
    assert.equal(outcome.error, 'invalid HTTP response from the server')
    assert.ok(!JSON.stringify(outcome).includes('s3cr3t'))
    const invalid = await client.send(outgoing(`http://127.0.0.1:${port}/`, { headers: { Authorization: 'Bearer s3cr3t\r\nX-Evil: 1' } }))
    assert.equal(invalid.kind, 'blocked')
    assert.ok(!JSON.stringify(invalid).includes('s3cr3t'))
  } finally {
    await client.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})
