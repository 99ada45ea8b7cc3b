/**
 * /api/v1/erasures (docs/privacy.md): erase the personal data of a contact's or a call's events.
 * The matched events keep only their ids, response excerpts are cleared, and deliveries still
 * pending end failed with "erased" and are never sent.
 */
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { eraseContactData } from '../../delivery/erasure.js'
import { notFound, validationError } from '../../errors.js'
import type { Erasure } from '../../store/store.js'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { errorResponses, IdParams } from '../schemas/common.js'
import { CreateErasureBody, ErasureAccepted, ErasureObject } from '../schemas/erasures.js'

export function presentErasure (erasure: Erasure): Static<typeof ErasureObject> {
  return {
    id: erasure.id,
    contact_id: erasure.contactId,
    job_id: erasure.jobId,
    events_matched: erasure.eventsMatched,
    created_at: erasure.createdAt.toISOString(),
  }
}

export function erasureRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps
  const tags = ['erasures']

  app.post<{ Body: Static<typeof CreateErasureBody> }>('/erasures', {
    schema: {
      operationId: 'createErasure',
      tags,
      summary: 'Erase the personal data of every event of a contact or a call',
      body: CreateErasureBody,
      response: { 202: ErasureAccepted, ...errorResponses(400, 403, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const { contact_id: contactId, job_id: jobId } = request.body
    if (contactId === undefined && jobId === undefined) {
      throw validationError('give contact_id, job_id or both', [
        { path: 'contact_id', message: 'is required when job_id is absent' },
        { path: 'job_id', message: 'is required when contact_id is absent' },
      ])
    }
    const erasure = await eraseContactData(store, { workspaceId, contactId: contactId ?? null, jobId: jobId ?? null })
    return reply.status(202).send({ id: erasure.id, events_matched: erasure.eventsMatched })
  })

  app.get<{ Params: Static<typeof IdParams> }>('/erasures/:id', {
    schema: {
      operationId: 'getErasure',
      tags,
      summary: 'The record of an erasure',
      params: IdParams,
      response: { 200: ErasureObject, ...errorResponses(403, 404) },
    },
  }, async (request) => {
    const erasure = await store.getErasure(workspaceOf(request), request.params.id)
    if (erasure === null) throw notFound(`erasure ${request.params.id}`)
    return presentErasure(erasure)
  })
}
