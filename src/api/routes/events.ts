/**
 * The producer side (docs/api.md): POST /events takes an event of the catalog, stores it with
 * its deliveries (acceptEvent) and answers 202; an event_id sent again creates nothing new.
 * Also the webhook test send, which goes through the same path with a sample payload.
 */
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { acceptEvent } from '../../delivery/accept-event.js'
import { notFound, ServiceError } from '../../errors.js'
import { samplePayload } from '../../events/samples.js'
import type { Delivery, Store } from '../../store/store.js'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { parseEnvelope } from '../presenters.js'
import { errorResponses, IdParams } from '../schemas/common.js'
import { DeliveryObject } from '../schemas/deliveries.js'
import { EventObject, EventParams, PublishEventBody, PublishEventResponse, TestSendBody } from '../schemas/events.js'
import { findDelivery, presentAllWithAttempts, presentWithAttempts } from './deliveries.js'
import { findWebhook } from './webhooks.js'

/** Polling interval while a test send waits for its first attempt. */
const TEST_POLL_MS = 50
/** A test send waits for the webhook's timeout plus this (claiming and recording take a moment). */
const TEST_WAIT_SLACK_MS = 2_000

async function allDeliveriesOf (store: Store, workspaceId: string, eventId: string): Promise<Delivery[]> {
  const out: Delivery[] = []
  let cursor: string | undefined
  do {
    const result = await store.listDeliveries({ workspaceId, eventId, cursor, limit: 100 })
    out.push(...result.data)
    cursor = result.nextCursor ?? undefined
  } while (cursor !== undefined)
  return out
}

/** Resolves when the delivery has a first attempt (or the wait is over): the delivery as it is then. */
async function waitForFirstAttempt (store: Store, workspaceId: string, id: string, waitMs: number): Promise<Delivery> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const delivery = await findDelivery(store, workspaceId, id)
    if (delivery.attemptCount > 0 || delivery.status !== 'pending' || Date.now() >= deadline) return delivery
    await new Promise((resolve) => setTimeout(resolve, TEST_POLL_MS))
  }
}

export function eventRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps

  app.post<{ Body: Static<typeof PublishEventBody> }>('/events', {
    schema: {
      tags: ['events'],
      operationId: 'publishEvent',
      summary: 'Publish an event: validated against the catalog, stored, delivered to every matching webhook',
      body: PublishEventBody,
      response: { 202: PublishEventResponse, ...errorResponses(400, 403, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const body = request.body
    // acceptEvent checks `data` against the catalog (a 422 naming each field).
    const accepted = await acceptEvent(store, {
      workspaceId,
      event: body.event,
      data: body.data,
      metadata: body.metadata,
      eventId: body.event_id,
      timestamp: body.timestamp,
    })
    return reply.status(202).send({ event_id: accepted.eventId, deliveries: accepted.deliveries })
  })

  app.get<{ Params: Static<typeof EventParams> }>('/events/:event_id', {
    schema: {
      tags: ['events'],
      operationId: 'getEvent',
      summary: 'An event\'s envelope as sent, and its deliveries',
      params: EventParams,
      response: { 200: EventObject, ...errorResponses(403, 404) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const event = await store.getEvent(workspaceId, request.params.event_id)
    if (event === null || event.workspaceId !== workspaceId) throw notFound(`event ${request.params.event_id}`)
    const deliveries = await allDeliveriesOf(store, workspaceId, event.id)
    return {
      event_id: event.id,
      event: event.type,
      received_at: event.createdAt.toISOString(),
      envelope: parseEnvelope(event.body),
      deliveries: await presentAllWithAttempts(store, deliveries),
    }
  })

  app.post<{ Params: Static<typeof IdParams>, Body: Static<typeof TestSendBody> | undefined }>('/webhooks/:id/test', {
    schema: {
      tags: ['webhooks'],
      operationId: 'testWebhook',
      summary: 'Send a sample event to this webhook now and return the delivery after its first attempt',
      params: IdParams,
      body: TestSendBody,
      response: { 200: DeliveryObject, ...errorResponses(400, 403, 404, 409, 415, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const webhook = await findWebhook(store, workspaceId, request.params.id)
    if (!webhook.enabled) {
      throw new ServiceError('CONFLICT', `webhook ${webhook.id} is disabled (${webhook.disabledReason ?? 'manual'}); enable it first (POST /webhooks/${webhook.id}/enable)`)
    }
    const type = request.body?.event ?? 'call.ended'
    const accepted = await acceptEvent(store, {
      workspaceId,
      event: type,
      data: samplePayload(type),
      // Lets a receiver tell a test send from real traffic.
      metadata: { test: true },
      onlyWebhook: webhook,
    })
    const deliveryId = accepted.deliveryIds[0]
    if (deliveryId === undefined) throw new Error('a test send created no delivery')
    const delivery = await waitForFirstAttempt(store, workspaceId, deliveryId, webhook.timeoutMs + TEST_WAIT_SLACK_MS)
    return presentWithAttempts(store, delivery)
  })
}
