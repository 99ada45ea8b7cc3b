/**
 * /api/v1/portal-sessions (docs/api.md, "Portal sessions"): a short-lived dashboard link for the
 * workspace, optionally read-only and persona-scoped. What its token may reach is ./../portal.ts.
 */
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { DEFAULTS } from '../../config/defaults.js'
import { notFound } from '../../errors.js'
import { newId, newToken } from '../../util/ids.js'
import { hashKey, PORTAL_TOKEN_PREFIX, workspaceOf } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { errorResponses, IdParams } from '../schemas/common.js'
import { CreatePortalSessionBody, PortalSessionObject } from '../schemas/portal.js'

/** Where portal links point: KEJUE_PUBLIC_URL, else the address this service listens on. */
function baseUrl (app: FastifyInstance, deps: ApiDeps, request: FastifyRequest): string {
  if (deps.config.publicUrl != null) return deps.config.publicUrl
  const address = app.server.address()
  if (address !== null && typeof address === 'object') {
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host === '0.0.0.0' || host === '[::]' ? request.hostname : host}:${address.port}`
  }
  return `${request.protocol}://${request.host}`
}

export function portalSessionRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const tags = ['portal']

  app.post<{ Body: Static<typeof CreatePortalSessionBody> | undefined }>('/portal-sessions', {
    schema: {
      operationId: 'createPortalSession',
      tags,
      summary: 'Create a dashboard link for this workspace (optionally read-only, optionally one persona)',
      body: CreatePortalSessionBody,
      response: { 201: PortalSessionObject, ...errorResponses(400, 403, 415, 422) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const now = new Date()
    const token = newToken(PORTAL_TOKEN_PREFIX)
    const ttlS = request.body?.ttl_s ?? DEFAULTS.portal.ttlS
    const session = {
      id: newId('ps'),
      workspaceId,
      hash: hashKey(token),
      personaId: request.body?.persona_id ?? null,
      readOnly: request.body?.read_only ?? false,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlS * 1000),
      revokedAt: null,
    }
    await deps.store.createPortalSession(session)
    return reply.status(201).send({
      id: session.id,
      url: `${baseUrl(app, deps, request)}/#token=${encodeURIComponent(token)}`,
      token,
      expires_at: session.expiresAt.toISOString(),
    })
  })

  app.delete<{ Params: Static<typeof IdParams> }>('/portal-sessions/:id', {
    schema: {
      operationId: 'revokePortalSession',
      tags,
      summary: 'Revoke a portal link at once',
      params: IdParams,
      response: { 204: { type: 'null', description: 'Revoked' }, ...errorResponses(403, 404) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    if (!await deps.store.revokePortalSession(workspaceId, request.params.id, new Date())) throw notFound(`portal session ${request.params.id}`)
    // Cached principals of this process go at once; other processes drop theirs within the cache TTL.
    deps.auth.invalidate()
    return reply.status(204).send()
  })
}
