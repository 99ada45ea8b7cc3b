/**
 * Simulated campaigns (sandbox only: registered when the service runs with the simulator on,
 * docs/sandbox.md). A campaign dials its contacts through the call simulator and emits
 * campaign.started / paused / resumed / failed / ended, with call.* events for every call.
 *
 * Times in the answers are simulated time, like the events' timestamps.
 */
import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { validationError } from '../../errors.js'
import type { CampaignSnapshot } from '../../simulator/campaign-simulator.js'
import type { Sandbox } from '../../simulator/sandbox.js'
import { workspaceOf } from '../auth.js'
import { OPTIONAL_BODY } from '../validation.js'
import { IdParams, errorResponses } from '../schemas/common.js'
import { CampaignResponse, CreateCampaignBody } from '../schemas/campaigns.js'

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString())

export function presentCampaign (campaign: CampaignSnapshot): Static<typeof CampaignResponse> {
  return {
    id: campaign.id,
    name: campaign.name,
    persona_id: campaign.personaId,
    status: campaign.status,
    end_reason: campaign.endReason,
    ended: campaign.ended,
    stats: { ...campaign.stats },
    performance: { ...campaign.performance },
    calls_in_flight: campaign.callsInFlight,
    error: campaign.error,
    created_at: campaign.createdAt.toISOString(),
    started_at: iso(campaign.startedAt),
    paused_at: iso(campaign.pausedAt),
    ended_at: iso(campaign.endedAt),
  }
}

const ACTIONS = ['start', 'pause', 'resume', 'cancel'] as const

export function campaignRoutes (app: FastifyInstance, deps: { sandbox: Sandbox }): void {
  const { sandbox } = deps

  app.post<{ Body: Static<typeof CreateCampaignBody> }>('/campaigns', {
    schema: {
      tags: ['sandbox'],
      operationId: 'createCampaign',
      summary: 'Create a simulated campaign (sandbox only)',
      body: CreateCampaignBody,
      response: { 201: CampaignResponse, ...errorResponses(400, 403, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const body = request.body
    if ((body.contacts === undefined) === (body.contact_ids === undefined)) {
      throw validationError('give either contacts or contact_ids', [{ path: 'contacts', message: 'give either contacts or contact_ids, not both or neither' }])
    }
    const contacts = body.contacts ?? (body.contact_ids ?? []).map((id) => ({ id }))
    const campaign = await sandbox.createCampaign(workspaceId, {
      name: body.name,
      personaId: body.persona_id,
      contacts,
      autoStart: body.auto_start === true,
      maxConcurrentCalls: body.max_concurrent_calls,
      seed: body.simulation?.seed,
      failAfterCalls: body.simulation?.fail_after_calls ?? null,
    })
    return reply.status(201).send(presentCampaign(campaign))
  })

  app.get<{ Params: Static<typeof IdParams> }>('/campaigns/:id', {
    schema: {
      tags: ['sandbox'],
      operationId: 'getCampaign',
      summary: 'A simulated campaign with its live stats',
      params: IdParams,
      response: { 200: CampaignResponse, ...errorResponses(403, 404) },
    },
  }, async (request) => presentCampaign(sandbox.getCampaign(workspaceOf(request), request.params.id)))

  for (const action of ACTIONS) {
    app.post<{ Params: Static<typeof IdParams> }>(`/campaigns/:id/${action}`, {
      schema: {
        tags: ['sandbox'],
        operationId: `${action}Campaign`,
        summary: `${action[0]?.toUpperCase() ?? ''}${action.slice(1)} a simulated campaign`,
        params: IdParams,
        body: Type.Object({}, { additionalProperties: true, [OPTIONAL_BODY]: true }),
        response: { 200: CampaignResponse, ...errorResponses(400, 403, 404, 409, 415) },
      },
    }, async (request) => {
      const workspaceId = workspaceOf(request)
      const id = request.params.id
      const snapshot = action === 'start'
        ? await sandbox.startCampaign(workspaceId, id)
        : action === 'pause'
          ? await sandbox.pauseCampaign(workspaceId, id)
          : action === 'resume'
            ? await sandbox.resumeCampaign(workspaceId, id)
            : await sandbox.cancelCampaign(workspaceId, id)
      return presentCampaign(snapshot)
    })
  }
}
