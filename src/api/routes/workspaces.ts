/**
 * Admin routes (docs/configuration.md): workspaces and their API keys. Only the admin key may call them.
 * A key is shown once, when it is made; rotation is "make a new key, switch, revoke the old".
 */
import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { notFound } from '../../errors.js'
import type { Store, Workspace } from '../../store/store.js'
import { newId } from '../../util/ids.js'
import { makeApiKey, requireAdmin } from '../auth.js'
import type { ApiDeps } from '../deps.js'
import { presentApiKey, presentWorkspace } from '../presenters.js'
import { errorResponses } from '../schemas/common.js'
import {
  ApiKeyObject, ApiKeyWithToken, CreateWorkspaceBody, KeyParams, WorkspaceObject, WorkspaceParams, WorkspaceWithKey,
} from '../schemas/workspaces.js'

async function findWorkspace (store: Store, id: string): Promise<Workspace> {
  const workspace = await store.getWorkspace(id)
  if (workspace === null) throw notFound(`workspace ${id}`)
  return workspace
}

export function workspaceRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps
  const tags = ['admin']

  app.post<{ Body: Static<typeof CreateWorkspaceBody> }>('/workspaces', {
    schema: {
      tags,
      operationId: 'createWorkspace',
      summary: 'Create a workspace and its first API key (admin key only)',
      body: CreateWorkspaceBody,
      response: { 201: WorkspaceWithKey, ...errorResponses(400, 403, 415, 422) },
    },
  }, async (request, reply) => {
    requireAdmin(request)
    const now = new Date()
    const workspace: Workspace = { id: newId('ws'), name: request.body.name, createdAt: now }
    await store.createWorkspace(workspace)
    const key = makeApiKey(workspace.id, now)
    await store.createApiKey(key.row)
    return reply.status(201).send({ ...presentWorkspace(workspace), api_key: key.token, api_key_id: key.row.id })
  })

  app.get('/workspaces', {
    schema: {
      tags,
      operationId: 'listWorkspaces',
      summary: 'List workspaces (admin key only)',
      response: { 200: Type.Array(WorkspaceObject), ...errorResponses(403) },
    },
  }, async (request) => {
    requireAdmin(request)
    return (await store.listWorkspaces()).map(presentWorkspace)
  })

  app.get<{ Params: Static<typeof WorkspaceParams> }>('/workspaces/:id', {
    schema: {
      tags,
      operationId: 'getWorkspace',
      summary: 'Read a workspace (admin key only)',
      params: WorkspaceParams,
      response: { 200: WorkspaceObject, ...errorResponses(403, 404) },
    },
  }, async (request) => {
    requireAdmin(request)
    return presentWorkspace(await findWorkspace(store, request.params.id))
  })

  app.get<{ Params: Static<typeof WorkspaceParams> }>('/workspaces/:id/keys', {
    schema: {
      tags,
      operationId: 'listApiKeys',
      summary: 'List a workspace\'s API keys, revoked ones included (admin key only)',
      params: WorkspaceParams,
      response: { 200: Type.Array(ApiKeyObject), ...errorResponses(403, 404) },
    },
  }, async (request) => {
    requireAdmin(request)
    const workspace = await findWorkspace(store, request.params.id)
    return (await store.listApiKeys(workspace.id)).map(presentApiKey)
  })

  app.post<{ Params: Static<typeof WorkspaceParams> }>('/workspaces/:id/keys', {
    schema: {
      tags,
      operationId: 'createApiKey',
      summary: 'Make a new API key for a workspace; the response shows it once (admin key only)',
      params: WorkspaceParams,
      response: { 201: ApiKeyWithToken, ...errorResponses(403, 404) },
    },
  }, async (request, reply) => {
    requireAdmin(request)
    const workspace = await findWorkspace(store, request.params.id)
    const key = makeApiKey(workspace.id)
    await store.createApiKey(key.row)
    return reply.status(201).send({ ...presentApiKey(key.row), api_key: key.token })
  })

  app.delete<{ Params: Static<typeof KeyParams> }>('/workspaces/:id/keys/:key_id', {
    schema: {
      tags,
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key at once (admin key only)',
      params: KeyParams,
      response: { 204: Type.Null(), ...errorResponses(403, 404) },
    },
  }, async (request, reply) => {
    requireAdmin(request)
    const workspace = await findWorkspace(store, request.params.id)
    const keys = await store.listApiKeys(workspace.id)
    const key = keys.find((k) => k.id === request.params.key_id && k.workspaceId === workspace.id)
    if (key === undefined) throw notFound(`API key ${request.params.key_id}`)
    if (key.revokedAt === null) await store.revokeApiKey(key.id, new Date())
    // This process refuses the key from now on; others within KEY_CACHE_TTL_MS (src/api/auth.ts).
    deps.auth.invalidate()
    return reply.status(204).send()
  })
}
