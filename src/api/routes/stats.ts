/**
 * GET /api/v1/stats: the numbers behind the dashboard's health strip, for the caller's workspace
 * only (a persona-scoped portal token: only its persona's webhooks). docs/dashboard.md says so.
 */
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { visibleWebhookIds } from '../portal.js'
import { errorResponses } from '../schemas/common.js'

const HOUR_MS = 3_600_000

export const StatsResponse = Type.Object({
  pending: Type.Integer({ description: 'The workspace\'s deliveries waiting for an attempt' }),
  failed_last_hour: Type.Integer({ description: 'The workspace\'s deliveries that ended failed in the last hour' }),
})

export function statsRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/stats', {
    schema: {
      operationId: 'getWorkspaceStats',
      tags: ['operations'],
      summary: 'The workspace\'s pending deliveries and failures in the last hour (the dashboard\'s health strip)',
      response: { 200: StatsResponse, ...errorResponses(403) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const now = new Date()
    const webhookIds = await visibleWebhookIds(deps.store, request, workspaceId)
    const stats = await deps.store.workspaceQueueStats(workspaceId, new Date(now.getTime() - HOUR_MS), webhookIds)
    return { pending: stats.pending, failed_last_hour: stats.failedSince }
  })
}
