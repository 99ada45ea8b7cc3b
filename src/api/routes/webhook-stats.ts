/** GET /api/v1/webhooks/{id}/stats: one webhook's chart data (../webhook-series.ts). */
import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { DEFAULTS } from '../../config/defaults.js'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { errorResponses } from '../schemas/common.js'
import { WebhookParams, WebhookStatsResponse } from '../schemas/webhooks.js'
import { BUCKETS, bucketSeries, seriesRange, WINDOWS } from '../webhook-series.js'
import type { BucketName, WindowName } from '../webhook-series.js'
import { findWebhook } from './webhooks.js'

const WebhookStatsQuery = Type.Object({
  window: Type.Optional(Type.Union(Object.keys(WINDOWS).map((w) => Type.Literal(w)), { default: '24h', description: 'How far back: 1h, 24h or 7d' })),
  bucket: Type.Optional(Type.Union(Object.keys(BUCKETS).map((b) => Type.Literal(b)), { description: 'Bucket size; default 5m for 1h, 1h for 24h, 1d for 7d' })),
}, { additionalProperties: false })

export function webhookStatsRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Params: Static<typeof WebhookParams>, Querystring: Static<typeof WebhookStatsQuery> }>('/webhooks/:id/stats', {
    schema: {
      operationId: 'getWebhookStats',
      tags: ['webhooks'],
      summary: 'Attempts per time bucket: volume, successes, failures, p50/p95 duration',
      params: WebhookParams,
      querystring: WebhookStatsQuery,
      response: { 200: WebhookStatsResponse, ...errorResponses(403, 404, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const webhook = await findWebhook(deps.store, workspaceId, request.params.id)
    const window = (request.query.window ?? '24h') as WindowName
    const bucket = (request.query.bucket ?? DEFAULTS.charts.defaultBucket[window]) as BucketName
    const range = seriesRange(new Date(), window, bucket)
    const samples = await deps.store.attemptSamples(webhook.id, range.from, range.to)
    return { window, bucket, buckets: bucketSeries(samples, range) }
  })
}
