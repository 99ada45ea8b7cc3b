/**
 * Deliveries (docs/api.md): one per event × webhook, with every attempt. Lists are newest
 * first and paged with an opaque cursor: `{data, next_cursor}`.
 */
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { DEFAULTS } from '../../config/defaults.js'
import { notFound, ServiceError } from '../../errors.js'
import { parseRequestTime } from '../validation.js'
import { ERASED_ERROR } from '../../store/store.js'
import type { Delivery, DeliveryFilter, Store, Webhook } from '../../store/store.js'
import { visibleWebhookIds } from '../portal.js'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { presentDelivery } from '../presenters.js'
import { errorResponses, IdParams } from '../schemas/common.js'
import { DeliveryListQuery, DeliveryObject, DeliveryPage, WebhookDeliveryListQuery } from '../schemas/deliveries.js'
import { findWebhook } from './webhooks.js'

const DEFAULT_PAGE_SIZE = DEFAULTS.api.pageSize

export async function presentWithAttempts (store: Store, delivery: Delivery): Promise<Static<typeof DeliveryObject>> {
  const webhook = await store.getWebhook(delivery.workspaceId, delivery.webhookId)
  return presentDelivery(delivery, await store.listAttempts(delivery.id), webhook)
}

/**
 * Many deliveries with their attempts: two queries whatever the number of deliveries, plus one
 * read per distinct webhook on the page (for the attempts' request headers).
 */
export async function presentAllWithAttempts (store: Store, deliveries: readonly Delivery[]): Promise<Array<Static<typeof DeliveryObject>>> {
  const attempts = await store.attemptsOf(deliveries.map((d) => d.id))
  const webhooks = new Map<string, Webhook | null>()
  for (const d of deliveries) {
    if (!webhooks.has(d.webhookId)) webhooks.set(d.webhookId, await store.getWebhook(d.workspaceId, d.webhookId))
  }
  return deliveries.map((d) => presentDelivery(d, attempts.get(d.id) ?? [], webhooks.get(d.webhookId)))
}

/** An ISO time of the query string as a Date; VALIDATION naming the field when it is not one. */
function queryTime (value: string | undefined, field: string): Date | undefined {
  return value === undefined ? undefined : parseRequestTime(value, field)
}

async function page (store: Store, filter: DeliveryFilter): Promise<Static<typeof DeliveryPage>> {
  const result = await store.listDeliveries(filter)
  return {
    data: await presentAllWithAttempts(store, result.data),
    next_cursor: result.nextCursor,
  }
}

export async function findDelivery (store: Store, workspaceId: string, id: string): Promise<Delivery> {
  const delivery = await store.getDelivery(workspaceId, id)
  if (delivery === null || delivery.workspaceId !== workspaceId) throw notFound(`delivery ${id}`)
  return delivery
}

export function deliveryRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps
  const tags = ['deliveries']

  app.get<{ Querystring: Static<typeof DeliveryListQuery> }>('/deliveries', {
    schema: {
      operationId: 'listDeliveries',
      tags,
      summary: 'The workspace\'s deliveries, newest first; filter by job, contact, event, type, status, webhook and time',
      querystring: DeliveryListQuery,
      response: { 200: DeliveryPage, ...errorResponses(403, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const q = request.query
    return page(store, {
      workspaceId,
      status: q.status,
      eventType: q.event,
      webhookId: q.webhook_id,
      eventId: q.event_id,
      jobId: q.job_id,
      contactId: q.contact_id,
      since: queryTime(q.since, 'since'),
      until: queryTime(q.until, 'until'),
      webhookIds: await visibleWebhookIds(store, request, workspaceId),
      cursor: q.cursor,
      limit: q.limit ?? DEFAULT_PAGE_SIZE,
    })
  })

  app.get<{ Params: Static<typeof IdParams>, Querystring: Static<typeof WebhookDeliveryListQuery> }>('/webhooks/:id/deliveries', {
    schema: {
      operationId: 'listWebhookDeliveries',
      tags: ['webhooks', 'deliveries'],
      summary: 'One webhook\'s deliveries, newest first',
      params: IdParams,
      querystring: WebhookDeliveryListQuery,
      response: { 200: DeliveryPage, ...errorResponses(403, 404, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const webhook = await findWebhook(store, workspaceId, request.params.id)
    const q = request.query
    return page(store, {
      workspaceId,
      webhookId: webhook.id,
      status: q.status,
      eventType: q.event,
      cursor: q.cursor,
      limit: q.limit ?? DEFAULT_PAGE_SIZE,
    })
  })

  app.get<{ Params: Static<typeof IdParams> }>('/deliveries/:id', {
    schema: {
      operationId: 'getDelivery',
      tags,
      summary: 'One delivery with every attempt and the next attempt time',
      params: IdParams,
      response: { 200: DeliveryObject, ...errorResponses(403, 404) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    return presentWithAttempts(store, await findDelivery(store, workspaceId, request.params.id))
  })

  app.post<{ Params: Static<typeof IdParams> }>('/deliveries/:id/retry', {
    schema: {
      operationId: 'retryDelivery',
      tags,
      summary: 'Deliver again now: one more attempt, whatever the delivery\'s status',
      params: IdParams,
      response: { 202: DeliveryObject, ...errorResponses(403, 404, 409) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const existing = await findDelivery(store, workspaceId, request.params.id)
    if (existing.status === 'failed' && existing.lastError === ERASED_ERROR) {
      throw new ServiceError('CONFLICT', 'this delivery\'s event was erased (docs/privacy.md); it is never sent again')
    }
    if (await store.getWebhook(workspaceId, existing.webhookId) === null) {
      throw new ServiceError('CONFLICT', 'this delivery\'s webhook was deleted; there is nowhere to deliver it')
    }
    const delivery = await store.retryDelivery(workspaceId, request.params.id, new Date())
    if (delivery === null) throw notFound(`delivery ${request.params.id}`)
    return reply.status(202).send(await presentWithAttempts(store, delivery))
  })
}
