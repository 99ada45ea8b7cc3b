/**
 * GET /api/v1/stats: the numbers behind the dashboard's health strip. They come from the store's
 * queue statistics, which are service-wide: a workspace key sees the whole queue's counts (no
 * ids, no content), which is enough to tell whether the service is keeping up. docs/dashboard.md
 * says so.
 */
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { errorResponses } from '../schemas/common.js'

const HOUR_MS = 3_600_000

export const StatsResponse = Type.Object({
  pending: Type.Integer({ description: 'Deliveries waiting for an attempt, whole service' }),
  failed_last_hour: Type.Integer({ description: 'Deliveries that ended failed in the last hour, whole service' }),
})

export function statsRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/stats', {
    schema: {
      tags: ['operations'],
      summary: 'Queue numbers for the dashboard: pending deliveries and failures in the last hour (service-wide)',
      response: { 200: StatsResponse, ...errorResponses(403) },
    },
  }, async (request) => {
    workspaceOf(request)
    const now = new Date()
    const stats = await deps.store.queueStats(now, new Date(now.getTime() - HOUR_MS))
    return { pending: stats.pending, failed_last_hour: stats.failedSince }
  })
}
