import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ApiDeps } from '../deps.js'

const HealthResponse = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]) })

/** Liveness for load balancers and Prometheus scraping (contract §5); no API key needed. */
export function healthRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/healthz', {
    schema: {
      tags: ['operations'],
      summary: 'Health: 200 when the store answers, 503 when it does not',
      security: [],
      response: { 200: HealthResponse, 503: HealthResponse },
    },
  }, async (_request, reply) => {
    const ok = await deps.store.ping().catch(() => false)
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable' })
  })

  app.get('/metrics', {
    schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)', security: [] },
  }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics()
    return reply.type(deps.metrics.registry.contentType).send(text)
  })
}
