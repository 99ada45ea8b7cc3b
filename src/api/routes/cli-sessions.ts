/**
 * `kejue-webhooks listen` sessions (docs/receiving.md, "Local development"; src/delivery/cli-hub.ts):
 *
 * - `POST /cli-sessions` `{events?}` answers with a server-sent-events stream that lives as long as
 *   the session: first `event: session` (id, webhook id, signing secret), then one `event:
 *   delivery` per attempt. Closing the connection ends the session.
 * - `POST /cli-sessions/{id}/results`: the local app's answer to one pushed attempt (any process
 *   may take it). 204, 404 for an unknown session or delivery, 409 when the attempt is no longer
 *   open (already reported, timed out, or the session ended).
 * - `DELETE /cli-sessions/{id}`: ends the session now (the CLI does this on Ctrl-C).
 */
import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { notFound, ServiceError } from '../../errors.js'
import { endCliSession } from '../../delivery/cli-hub.js'
import type { CliHub, CliPush } from '../../delivery/cli-hub.js'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { errorResponses, EventFilterSchema, IdParams, IdString } from '../schemas/common.js'
import { OPTIONAL_BODY } from '../validation.js'

const OpenBody = Type.Object({
  events: Type.Optional(Type.Array(EventFilterSchema, { minItems: 1, maxItems: 50, description: 'Event types to receive; default ["*"]' })),
}, { additionalProperties: false, [OPTIONAL_BODY]: true })

const ReportBody = Type.Object({
  delivery_id: IdString,
  lease_token: IdString,
  attempt: Type.Integer({ minimum: 1 }),
  status_code: Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.Null()]),
  duration_ms: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  error: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  response_excerpt: Type.Optional(Type.Union([Type.String({ maxLength: 4_096 }), Type.Null()])),
  // The local app's Retry-After header as sent: a 503's is honoured as from any receiver.
  retry_after: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
}, { additionalProperties: false })

/** A comment line every so often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000

function sse (event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export function cliSessionRoutes (app: FastifyInstance, deps: ApiDeps & { cliHub: CliHub }): void {
  const { store, cliHub } = deps
  const tags = ['cli-sessions']

  app.post<{ Body: Static<typeof OpenBody> | undefined }>('/cli-sessions', {
    schema: {
      tags,
      operationId: 'openCliSession',
      summary: 'Open a `kejue-webhooks listen` session: a text/event-stream of deliveries for as long as the connection lives',
      body: OpenBody,
      response: {
        // Written by hand to the raw response (reply.hijack): the schema documents it, nothing serializes with it.
        200: {
          description: 'A text/event-stream for as long as the connection lives: first a `session` event (its id, webhook_id, events, signing_method and secret), then a `delivery` event per attempt pushed to it, and `: keepalive` comments',
          content: { 'text/event-stream': { schema: Type.String() } },
        },
        ...errorResponses(400, 403, 415, 422),
      },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const events = request.body?.events ?? ['*']
    const raw = reply.raw
    let ended = false
    const opened = await cliHub.open(workspaceId, events, {
      push (delivery: CliPush) {
        if (!ended) raw.write(sse('delivery', delivery))
      },
      end () {
        if (ended) return
        ended = true
        raw.end()
      },
    })
    reply.hijack()
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    })
    raw.write(sse('session', {
      id: opened.session.id,
      webhook_id: opened.webhook.id,
      events: opened.webhook.events,
      signing_method: opened.webhook.signingMethod,
      secret: opened.secret,
    }))
    const keepalive = setInterval(() => { if (!ended) raw.write(': keepalive\n\n') }, KEEPALIVE_MS)
    raw.on('close', () => {
      clearInterval(keepalive)
      ended = true
      cliHub.close(opened.session.id).catch((err: unknown) => request.log.error({ err }, 'ending a cli session failed'))
    })
  })

  app.post<{ Params: Static<typeof IdParams>, Body: Static<typeof ReportBody> }>('/cli-sessions/:id/results', {
    schema: {
      tags,
      operationId: 'reportCliResult',
      summary: 'Report the local app\'s answer to one pushed delivery attempt',
      params: IdParams,
      body: ReportBody,
      response: { 204: Type.Null(), ...errorResponses(400, 403, 404, 409, 415) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const result = await cliHub.report(workspaceId, request.params.id, request.body, new Date())
    if (result === 'unknown-session') throw notFound(`cli session ${request.params.id}`)
    if (result === 'unknown-delivery') throw notFound(`delivery ${request.body.delivery_id} of this session`)
    if (result === 'stale') {
      throw new ServiceError('CONFLICT', `attempt ${request.body.attempt} of ${request.body.delivery_id} is no longer open (already reported, timed out, or the session ended)`)
    }
    return reply.status(204).send()
  })

  app.delete<{ Params: Static<typeof IdParams> }>('/cli-sessions/:id', {
    schema: {
      tags,
      operationId: 'closeCliSession',
      summary: 'End a `kejue-webhooks listen` session: its webhook goes, its pending deliveries fail',
      params: IdParams,
      response: { 204: Type.Null(), ...errorResponses(403, 404) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const session = await store.getCliSession(workspaceId, request.params.id)
    if (session === null) throw notFound(`cli session ${request.params.id}`)
    await endCliSession(store, session, new Date())
    return reply.status(204).send()
  })
}
