import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ApiDeps } from '../deps.js'
import { createHealthProbe } from '../health-probe.js'

const HealthResponse = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]) })

/** Health for load balancers and Prometheus scraping (docs/api.md); no API key needed. */
export function healthRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const storeWritable = createHealthProbe(deps.store)
  app.get('/healthz', {
    schema: {
      tags: ['operations'],
      summary: 'Health: 200 when the store can be written, 503 when it cannot',
      security: [],
      response: { 200: HealthResponse, 503: HealthResponse },
    },
  }, async (_request, reply) => {
    const ok = await storeWritable()
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable' })
  })

  app.get('/metrics', {
    schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)', security: [] },
  }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics()
    return reply.type(deps.metrics.registry.contentType).send(text)
  })
}
