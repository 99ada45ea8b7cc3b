/**
 * POST /persona-calls (docs/api.md): Kejue's create-call body. This service places no calls; it
 * registers the call (job_id, persona) and its inline webhooks, so the call's later call.*
 * events go to those webhooks only (docs/wire-format.md#routing, spec "Inline Webhooks").
 */
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { validationError } from '../../errors.js'
import type { NewWebhook } from '../../store/store.js'
import { newId } from '../../util/ids.js'
import { workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { errorResponses } from '../schemas/common.js'
import { CreatePersonaCallBody, PersonaCallResponse } from '../schemas/persona-calls.js'
import { newWebhookFromInput } from '../webhook-input.js'

export function personaCallRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps

  app.post<{ Body: Static<typeof CreatePersonaCallBody> }>('/persona-calls', {
    schema: {
      tags: ['calls'],
      operationId: 'createPersonaCall',
      summary: 'Register a call and its inline webhooks (config.webhooks)',
      body: CreatePersonaCallBody,
      response: { 201: PersonaCallResponse, ...errorResponses(400, 403, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const body = request.body
    const contactId = body.contact_id ?? body.contact?.id
    if (contactId === undefined && body.contact === undefined) {
      throw validationError('contact_id or contact is required', [{ path: 'contact_id', message: 'contact_id or contact is required' }])
    }
    if (body.contact_id !== undefined && body.contact?.id !== undefined && body.contact.id !== body.contact_id) {
      throw validationError('contact.id differs from contact_id', [{ path: 'contact.id', message: 'differs from contact_id' }])
    }
    const jobId = newId('job')
    const inline: NewWebhook[] = []
    for (const [index, webhook] of (body.config?.webhooks ?? []).entries()) {
      inline.push(await newWebhookFromInput(webhook, {
        allowPrivateNetworks: deps.config.allowPrivateNetworks,
        pathPrefix: `config.webhooks[${index}].`,
      }, { workspaceId, jobId }))
    }
    await store.createCall({
      workspaceId,
      jobId,
      personaId: body.persona_id,
      hasInlineWebhooks: inline.length > 0,
      createdAt: new Date(),
    }, inline)
    const resolvedContactId = contactId ?? newId('ct')
    // With the simulator on, the call is dialled now: its events follow (docs/sandbox.md).
    deps.sandbox?.dialCall(workspaceId, {
      jobId,
      personaId: body.persona_id,
      contact: { id: resolvedContactId, name: body.contact?.name ?? null, phone: body.contact?.phone ?? null },
    })
    return reply.status(201).send({
      job_id: jobId,
      status: 'queued',
      persona_id: body.persona_id,
      contact_id: resolvedContactId,
      webhooks: inline.length,
    })
  })
}
