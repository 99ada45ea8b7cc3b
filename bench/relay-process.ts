/**
 * The bare relay (bench phase `relay`): what any webhook service built on this stack could reach
 * on this machine, with nothing of ours in the way. A fastify app, as the service's API is, takes
 * `POST /api/v1/events`, answers 202 at once and forwards the event, wrapped and HMAC-signed as the
 * service sends it, to the webhook's URL with undici (64 connections, as the service's pool per
 * webhook). No store, no auth, no catalog, no retries, no thread: its rate is the ceiling that the
 * full path's ratio to the raw baseline is bounded by (docs/performance.md).
 *
 * It speaks just enough of the API for bench/service.ts: creating the workspace and the webhook,
 * and the "listening on" line `startService` waits for.
 */
import Fastify from 'fastify'
import { Pool } from 'undici'
import { signHeaders } from '../src/signing/signer.js'
import { newId } from '../src/util/ids.js'
import { USER_AGENT } from '../src/util/version.js'

interface Target { pool: Pool, path: string, secret: string }

let target: Target | null = null
const app = Fastify({ logger: false })

app.post('/api/v1/workspaces', async (_request, reply) => reply.status(201).send({ id: 'ws_relay', api_key: 'ka_relay' }))

app.post<{ Body: { url: string, secret: string } }>('/api/v1/webhooks', async (request, reply) => {
  const url = new URL(request.body.url)
  target = { pool: new Pool(url.origin, { connections: 64, pipelining: 1 }), path: url.pathname, secret: request.body.secret }
  return reply.status(201).send({ id: 'wh_relay' })
})

app.post<{ Body: { event: string, data: unknown, metadata?: unknown } }>('/api/v1/events', {
  schema: { body: { type: 'object', required: ['event', 'data'], properties: { event: { type: 'string' }, data: { type: 'object' }, metadata: { type: 'object' } } } },
}, async (request, reply) => {
  const to = target
  if (to === null) return reply.status(404).send({ error: 'no webhook' })
  const eventId = newId('evt')
  const body = JSON.stringify({ event: request.body.event, event_id: eventId, workspace_id: 'ws_relay', timestamp: new Date().toISOString(), data: request.body.data, metadata: request.body.metadata ?? {} })
  void to.pool.request({
    method: 'POST',
    path: to.path,
    body,
    headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signHeaders('hmac_sha256', to.secret, body, Date.now()) },
  }).then((res) => res.body.dump(), () => {})
  return reply.status(202).send({ event_id: eventId, deliveries: 1 })
})

const address = await app.listen({ host: '127.0.0.1', port: 0 })
console.log(`listening on ${address}`)
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
