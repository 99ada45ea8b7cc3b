import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { verify, WebhookVerificationError } from '../../src/receiver/index.js'
import { envelopeBody, signedRequest, TEST_SECRET } from '../helpers/webhook-request.js'

// Receivers over real HTTP: bytes and headers as Node and Fastify actually hand them over.

const unicodeBody = envelopeBody({ transcript: 'Agent: 您好 👋 — José\u0301\n'.repeat(300) })

async function readRaw (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A plain node:http receiver: raw body, `req.headers`, 2xx fast or 4xx with the code. */
async function startNodeReceiver (): Promise<{ server: Server, url: string }> {
  const server = createServer((req, res) => {
    // Content-Length rather than chunked, so rawPost can read the body as is.
    const send = (status: number, value: unknown): void => {
      const json = JSON.stringify(value)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json)
    }
    readRaw(req).then((raw) => {
      try {
        const event = verify(raw, req.headers, { secret: TEST_SECRET })
        send(200, { event_id: event.event_id })
      } catch (error) {
        send(401, { code: error instanceof WebhookVerificationError ? error.code : 'UNEXPECTED' })
      }
    }, () => res.writeHead(500).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}/webhooks/kejue` }
}

/** Sends raw HTTP/1.1 so a header can be repeated, which fetch would merge first. */
async function rawPost (url: string, headerLines: string[], body: string): Promise<{ status: number, body: string }> {
  const { port, hostname } = new URL(url)
  const bytes = Buffer.from(body, 'utf8')
  const request = [
    'POST /webhooks/kejue HTTP/1.1',
    `Host: ${hostname}:${port}`,
    'Content-Type: application/json',
    `Content-Length: ${bytes.length}`,
    'Connection: close',
    ...headerLines,
    '',
    '',
  ].join('\r\n')
  const response = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(Buffer.concat([Buffer.from(request, 'latin1'), bytes])))
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.on('error', reject)
  })
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1])
  return { status, body: response.slice(response.indexOf('\r\n\r\n') + 4) }
}

test('a node:http receiver verifies a signed unicode delivery and refuses tampering and duplicates', async () => {
  const { server, url } = await startNodeReceiver()
  try {
    const good = signedRequest({ body: unicodeBody, timestampMs: Date.now() })
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...good.headers }, body: good.body })
    assert.equal(ok.status, 200)
    assert.equal(((await ok.json()) as { event_id: string }).event_id, 'evt_test')

    const tampered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...good.headers }, body: good.body.replace('José', 'Jose') })
    assert.equal(tampered.status, 401)
    assert.deepEqual(await tampered.json(), { code: 'SIGNATURE_MISMATCH' })

    // Node joins a repeated X-Kejue-Signature with ", "; the receiver must not pick one.
    const sig = good.headers['x-kejue-signature'] ?? ''
    const ts = good.headers['x-kejue-timestamp'] ?? ''
    const twice = await rawPost(url, [`X-Kejue-Signature: ${sig}`, `X-Kejue-Signature: ${sig}`, `X-Kejue-Timestamp: ${ts}`], good.body)
    assert.equal(twice.status, 401)
    assert.deepEqual(JSON.parse(twice.body), { code: 'INVALID_SIGNATURE_FORMAT' })
    const once = await rawPost(url, [`x-kejue-signature: ${sig}`, `X-KEJUE-TIMESTAMP: ${ts}`], good.body)
    assert.equal(once.status, 200)

    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: good.body })
    assert.deepEqual(await unsigned.json(), { code: 'MISSING_HEADER' })
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})

test('the Fastify receiver from docs/receiving.md gets the raw body and verifies it', async () => {
  const app = Fastify()
  try {
    // As in docs/receiving.md: a buffer parser for JSON, in its own plugin so other routes keep theirs.
    await app.register(async (scope) => {
      scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
      scope.post('/webhooks/kejue', async (request, reply) => {
        try {
          const event = verify(request.body as Buffer, request.headers, { secret: TEST_SECRET })
          return reply.code(200).send({ received: event.event_id })
        } catch (error) {
          if (error instanceof WebhookVerificationError) return reply.code(401).send({ code: error.code })
          throw error
        }
      })
    })
    app.post('/other', async (request) => ({ parsed: request.body }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const base = `http://127.0.0.1:${port}`

    const good = signedRequest({ body: unicodeBody, timestampMs: Date.now() })
    const ok = await fetch(`${base}/webhooks/kejue`, { method: 'POST', headers: { 'content-type': 'application/json', ...good.headers }, body: good.body })
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { received: 'evt_test' })

    const stale = signedRequest({ timestampMs: Date.now() - 600_000 })
    const old = await fetch(`${base}/webhooks/kejue`, { method: 'POST', headers: { 'content-type': 'application/json', ...stale.headers }, body: stale.body })
    assert.deepEqual(await old.json(), { code: 'TIMESTAMP_OUT_OF_RANGE' })

    const other = await fetch(`${base}/other`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
    assert.deepEqual(await other.json(), { parsed: { a: 1 } })
  } finally {
    await app.close()
  }
})
