/**
 * /api/v1/webhooks (docs/api.md): create, list, read, update, delete, rotate the secret, enable
 * (replaying parked deliveries), recover failed deliveries, and a test send. A webhook is workspace-scoped; inline (per-call) webhooks are not API objects and
 * answer 404 here.
 */
import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { matchesEventFilter } from '../../events/event-types.js'
import { notFound, ServiceError, validationError } from '../../errors.js'
import { methodNeedsSecret } from '../../signing/methods.js'
import type { Store, Webhook } from '../../store/store.js'
import { workspaceOf } from '../auth.js'
import { personaSees, portalOf } from '../portal.js'
import type { ApiDeps } from '../deps.js'
import { presentWebhook } from '../presenters.js'
import { errorResponses } from '../schemas/common.js'
import {
  CreateWebhookBody, EnableWebhookBody, RecoverBody, RecoverResponse, RotatedWebhook, SecretSchema, UpdateWebhookBody,
  WebhookListQuery, WebhookObject, WebhookParams, WebhookWithSecret,
} from '../schemas/webhooks.js'
import { OPTIONAL_BODY, parseRequestTime } from '../validation.js'
import { isCliWebhook } from '../../delivery/cli-hub.js'
import { generateSecret, newWebhookFromInput, secretProblems, webhookPatchFromInput } from '../webhook-input.js'
import { rotationPatch } from '../../delivery/secret-rotation.js'
import { DEFAULTS } from '../../config/defaults.js'

const RotateSecretBody = Type.Object({
  secret: Type.Optional(SecretSchema),
  overlap_ms: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: DEFAULTS.secrets.rotationOverlapMaxMs,
    default: DEFAULTS.secrets.rotationOverlapMs,
    description: 'How long the old secret keeps signing X-Kejue-Signature (hmac_sha256, hmac_sha1); 0 switches at once',
  })),
}, { additionalProperties: false, [OPTIONAL_BODY]: true })

/** The workspace's subscription with this id, or 404 (also for another workspace's ids). */
export async function findWebhook (store: Store, workspaceId: string, id: string): Promise<Webhook> {
  const webhook = await store.getWebhook(workspaceId, id)
  // A `listen` session's webhook is the CLI's, not a subscription: it is managed through /cli-sessions.
  if (webhook === null || webhook.jobId !== null || webhook.workspaceId !== workspaceId || isCliWebhook(webhook)) throw notFound(`webhook ${id}`)
  return webhook
}

async function present (store: Store, webhook: Webhook): Promise<Static<typeof WebhookObject>> {
  const stats = await store.webhookStats(webhook.workspaceId, [webhook.id])
  return presentWebhook(webhook, stats.get(webhook.id))
}

export function webhookRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps
  const tags = ['webhooks']

  app.post<{ Body: Static<typeof CreateWebhookBody> }>('/webhooks', {
    schema: {
      operationId: 'createWebhook',
      tags,
      summary: 'Create a webhook; the response is the only one that shows its secret',
      body: CreateWebhookBody,
      response: { 201: WebhookWithSecret, ...errorResponses(400, 403, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const input = await newWebhookFromInput(request.body, { allowPrivateNetworks: deps.config.allowPrivateNetworks }, { workspaceId, jobId: null })
    const webhook = await store.createWebhook(input, new Date())
    return reply.status(201).send({ ...presentWebhook(webhook, undefined), secret: webhook.secret })
  })

  app.get<{ Querystring: Static<typeof WebhookListQuery> }>('/webhooks', {
    schema: {
      operationId: 'listWebhooks',
      tags,
      summary: 'List the workspace\'s webhooks (a bare JSON array), oldest first',
      querystring: WebhookListQuery,
      response: { 200: Type.Array(WebhookObject), ...errorResponses(403, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const filter = request.query.event
    const personaId = portalOf(request)?.personaId ?? null
    const webhooks = (await store.listWebhooks(workspaceId))
      .filter((w) => !isCliWebhook(w))
      .filter((w) => personaId === null || personaSees(personaId, w))
      .filter((w) => filter === undefined || (filter === '*' ? w.events.includes('*') : matchesEventFilter(w.events, filter)))
    const stats = await store.webhookStats(workspaceId, webhooks.map((w) => w.id))
    return webhooks.map((w) => presentWebhook(w, stats.get(w.id)))
  })

  app.get<{ Params: Static<typeof WebhookParams> }>('/webhooks/:id', {
    schema: {
      operationId: 'getWebhook',
      tags,
      summary: 'Read a webhook',
      params: WebhookParams,
      response: { 200: WebhookObject, ...errorResponses(403, 404) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    return present(store, await findWebhook(store, workspaceId, request.params.id))
  })

  app.patch<{ Params: Static<typeof WebhookParams>, Body: Static<typeof UpdateWebhookBody> }>('/webhooks/:id', {
    schema: {
      operationId: 'updateWebhook',
      tags,
      summary: 'Update some fields of a webhook (same rules as create)',
      params: WebhookParams,
      body: UpdateWebhookBody,
      response: { 200: WebhookObject, ...errorResponses(400, 403, 404, 413, 415, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const existing = await findWebhook(store, workspaceId, request.params.id)
    const patch = await webhookPatchFromInput(existing, request.body, { allowPrivateNetworks: deps.config.allowPrivateNetworks })
    let updated = await store.updateWebhook(workspaceId, existing.id, patch, new Date())
    // enabled: false parks (reason "manual"); true is POST /enable with replay.
    if (updated !== null && request.body.enabled === false) updated = await store.disableWebhook(workspaceId, existing.id, 'manual', new Date())
    if (updated !== null && request.body.enabled === true) updated = await store.enableWebhook(workspaceId, existing.id, true, new Date())
    if (updated === null) throw notFound(`webhook ${existing.id}`)
    return present(store, updated)
  })

  app.post<{ Params: Static<typeof WebhookParams>, Body: Static<typeof EnableWebhookBody> | undefined }>('/webhooks/:id/enable', {
    schema: {
      operationId: 'enableWebhook',
      tags,
      summary: 'Enable a disabled webhook: its parked deliveries go, oldest event first (or end failed with replay_parked: false)',
      params: WebhookParams,
      body: EnableWebhookBody,
      response: { 200: WebhookObject, ...errorResponses(400, 403, 404, 415, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const webhook = await findWebhook(store, workspaceId, request.params.id)
    const updated = await store.enableWebhook(workspaceId, webhook.id, request.body?.replay_parked ?? true, new Date())
    if (updated === null) throw notFound(`webhook ${webhook.id}`)
    return present(store, updated)
  })

  app.post<{ Params: Static<typeof WebhookParams>, Body: Static<typeof RecoverBody> }>('/webhooks/:id/recover', {
    schema: {
      operationId: 'recoverWebhookDeliveries',
      tags,
      summary: 'Give the failed deliveries created in [since, until) a fresh set of attempts; dry_run only counts them',
      params: WebhookParams,
      body: RecoverBody,
      response: { 202: RecoverResponse, ...errorResponses(400, 403, 404, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const webhook = await findWebhook(store, workspaceId, request.params.id)
    const { since, until, dry_run: dryRun } = request.body
    const sinceAt = parseRequestTime(since, 'since')
    const untilAt = until === undefined ? null : parseRequestTime(until, 'until')
    if (untilAt !== null && untilAt <= sinceAt) {
      throw validationError('until must be later than since', [{ path: 'until', message: 'must be later than since' }])
    }
    const result = await store.recoverDeliveries({
      workspaceId,
      webhookId: webhook.id,
      since: sinceAt,
      until: untilAt,
      dryRun: dryRun ?? false,
      retries: webhook.retryScheduleMs?.length ?? webhook.maxRetries,
      // A disabled webhook's recovered deliveries wait parked until it is enabled.
      status: webhook.enabled ? 'pending' : 'parked',
      now: new Date(),
    })
    return reply.status(202).send(result)
  })

  app.delete<{ Params: Static<typeof WebhookParams> }>('/webhooks/:id', {
    schema: {
      operationId: 'deleteWebhook',
      tags,
      summary: 'Delete a webhook; its pending deliveries end failed',
      params: WebhookParams,
      response: { 204: Type.Null(), ...errorResponses(403, 404) },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request)
    const webhook = await findWebhook(store, workspaceId, request.params.id)
    if (!await store.deleteWebhook(workspaceId, webhook.id, new Date())) throw notFound(`webhook ${webhook.id}`)
    return reply.status(204).send()
  })

  app.post<{ Params: Static<typeof WebhookParams>, Body: Static<typeof RotateSecretBody> | undefined }>('/webhooks/:id/rotate-secret', {
    schema: {
      operationId: 'rotateWebhookSecret',
      tags,
      summary: 'Replace the secret (generated unless given); the old one keeps signing during the overlap. The response shows the new one once',
      params: WebhookParams,
      body: RotateSecretBody,
      response: { 200: RotatedWebhook, ...errorResponses(400, 403, 404, 409, 415, 422) },
    },
  }, async (request) => {
    const workspaceId = workspaceOf(request)
    const webhook = await findWebhook(store, workspaceId, request.params.id)
    if (!methodNeedsSecret(webhook.signingMethod)) {
      throw new ServiceError('CONFLICT', 'this webhook uses signing_method none, which has no secret')
    }
    const given = request.body?.secret
    if (webhook.signingMethod === 'basic_auth' && given === undefined) {
      throw validationError('secret is required for basic_auth, as "user:password"', [{ path: 'secret', message: 'is required for basic_auth, as "user:password"' }])
    }
    if (webhook.signingMethod === 'basic_auth' && given !== undefined && !/^[^:]+:.+$/.test(given)) {
      throw validationError('secret must be "user:password" for basic_auth', [{ path: 'secret', message: 'must be "user:password" for basic_auth' }])
    }
    const problems = secretProblems(webhook.signingMethod, given)
    if (problems.length > 0) throw validationError(`secret ${problems.map((p) => p.message).join('; ')}`, problems)
    const secret = given ?? generateSecret(webhook.signingMethod)
    const now = new Date()
    const patch = rotationPatch(webhook, secret, request.body?.overlap_ms ?? DEFAULTS.secrets.rotationOverlapMs, now)
    const updated = await store.updateWebhook(workspaceId, webhook.id, patch, now)
    if (updated === null) throw notFound(`webhook ${webhook.id}`)
    return { ...await present(store, updated), secret, previous_secret_expires_at: patch.previousSecretExpiresAt?.toISOString() ?? null }
  })
}
