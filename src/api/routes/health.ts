import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import { ServiceError } from '../../errors.js'
import type { ApiDeps } from '../deps.js'
import { ErrorResponse } from '../schemas/common.js'
import { createHealthProbe } from '../health-probe.js'

const HealthResponse = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]) })

/** Health for load balancers and Prometheus scraping (docs/api.md); no API key needed. */
export function healthRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const storeWritable = createHealthProbe(deps.store)
  app.get('/healthz', {
    schema: {
      tags: ['operations'],
      operationId: 'getHealth',
      summary: 'Health: 200 when the store can be written, 503 when it cannot',
      security: [],
      response: { 200: HealthResponse, 503: HealthResponse },
    },
  }, async (_request, reply) => {
    const ok = await storeWritable()
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable' })
  })

  // KEJUE_METRICS_TOKEN: only this token opens /metrics (no API key or portal token does), and it
  // opens nothing else (it is not a key of any workspace).
  const metricsToken = deps.config.metricsToken ?? null
  app.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format); needs Authorization: Bearer <KEJUE_METRICS_TOKEN> when that is set',
      security: metricsToken === null ? [] : [{ bearer: [] }],
      response: {
        200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
        401: { ...ErrorResponse, description: 'KEJUE_METRICS_TOKEN is set and the request did not send it' },
      },
    },
  }, async (request, reply) => {
    if (metricsToken !== null && !bearerMatches(request.headers.authorization, metricsToken)) {
      throw new ServiceError('UNAUTHORIZED', 'GET /metrics needs Authorization: Bearer <KEJUE_METRICS_TOKEN>')
    }
    const text = await deps.metrics.registry.metrics()
    return reply.type(deps.metrics.registry.contentType).send(text)
  })
}

function bearerMatches (header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1]
  if (given === undefined) return false
  const a = Buffer.from(given, 'utf8')
  const b = Buffer.from(token, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}
