/**
 * What a portal token may reach (docs/api.md, "Portal sessions"). One policy for every route, so
 * a route added later is closed to portal tokens unless it is listed here:
 *
 * - never /events, /erasures, /portal-sessions, /workspaces (403), nor anything not listed below;
 * - reads (GET) of the workspace's webhooks, deliveries and stats;
 * - unless read-only, webhook management (writes under /webhooks) and delivery retries.
 *
 * A persona-scoped token sees only webhooks with `scope_type: "persona"` of its persona and their
 * deliveries: another webhook or delivery is a 404 (as another workspace's would be), lists leave
 * them out, and it may create or move webhooks only into its own persona scope (403 otherwise).
 */
import type { FastifyRequest } from 'fastify'
import { ServiceError, notFound } from '../errors.js'
import type { Store, Webhook } from '../store/store.js'
import type { Principal } from './auth.js'

type PortalPrincipal = Extract<Principal, { kind: 'portal' }>

const API = '/api/v1'
const CLOSED = ['/events', '/erasures', '/portal-sessions', '/workspaces'].map((p) => API + p)
/** Route patterns a portal token may read. */
const READABLE = [/^\/webhooks(\/|$)/, /^\/deliveries(\/|$)/, /^\/stats$/]
/** Route patterns a portal token that is not read-only may write. */
const WRITABLE = [/^\/webhooks(\/|$)/, /^\/deliveries\/:id\/retry$/]

function forbidden (message: string): ServiceError {
  return new ServiceError('FORBIDDEN', message)
}

/** The portal principal of a request, or null for any other credential. */
export function portalOf (request: FastifyRequest): PortalPrincipal | null {
  return request.principal?.kind === 'portal' ? request.principal : null
}

/** Route-level check, run once the credential is known (onRequest): 403 where a portal token may not go. */
export function checkPortalRoute (request: FastifyRequest): void {
  const portal = portalOf(request)
  if (portal === null) return
  const route = request.routeOptions.url ?? request.url.split('?')[0] ?? ''
  if (CLOSED.some((prefix) => route === prefix || route.startsWith(`${prefix}/`))) {
    throw forbidden('a portal token cannot use this route; it needs a workspace API key')
  }
  const path = route.startsWith(API) ? route.slice(API.length) : route
  const read = request.method === 'GET' || request.method === 'HEAD'
  if (read && READABLE.some((re) => re.test(path))) return
  if (!read && WRITABLE.some((re) => re.test(path))) {
    if (portal.readOnly) throw forbidden('this portal link is read-only')
    return
  }
  throw forbidden('a portal token cannot use this route; it needs a workspace API key')
}

/** True when a persona-scoped token may see this webhook. */
export function personaSees (personaId: string, webhook: Pick<Webhook, 'scopeType' | 'personaId'>): boolean {
  return webhook.scopeType === 'persona' && webhook.personaId === personaId
}

/**
 * The webhook ids a request may see, or undefined when it may see the whole workspace (a workspace
 * key, or a portal token without a persona).
 */
export async function visibleWebhookIds (store: Store, request: FastifyRequest, workspaceId: string): Promise<string[] | undefined> {
  const personaId = portalOf(request)?.personaId ?? null
  if (personaId === null) return undefined
  return (await store.listWebhooks(workspaceId)).filter((w) => personaSees(personaId, w)).map((w) => w.id)
}

interface ScopedBody { scope_type?: unknown, persona_id?: unknown }

/**
 * Object-level check (preHandler, after the body is parsed): a persona-scoped token reaches only
 * its persona's webhooks and their deliveries (404 otherwise), and writes keep webhooks in its scope.
 */
export async function checkPortalObjects (store: Store, request: FastifyRequest): Promise<void> {
  const portal = portalOf(request)
  if (portal === null || portal.personaId === null) return
  const personaId = portal.personaId
  const route = (request.routeOptions.url ?? '').slice(API.length)
  const id = (request.params as { id?: string } | undefined)?.id
  if (id !== undefined && route.startsWith('/webhooks/:id')) {
    const webhook = await store.getWebhook(portal.workspaceId, id)
    if (webhook === null || !personaSees(personaId, webhook)) throw notFound(`webhook ${id}`)
  }
  if (id !== undefined && route.startsWith('/deliveries/:id')) {
    const delivery = await store.getDelivery(portal.workspaceId, id)
    const webhook = delivery === null || delivery.inline ? null : await store.getWebhook(portal.workspaceId, delivery.webhookId)
    if (webhook === null || !personaSees(personaId, webhook)) throw notFound(`delivery ${id}`)
  }
  const body = request.body as ScopedBody | undefined
  if (request.method === 'POST' && route === '/webhooks') {
    if (body?.scope_type !== 'persona' || body.persona_id !== personaId) {
      throw forbidden(`this portal link manages only webhooks with scope_type "persona" and persona_id "${personaId}"`)
    }
  }
  if (request.method === 'PATCH' && route === '/webhooks/:id' && body !== undefined && body !== null) {
    if ((body.scope_type !== undefined && body.scope_type !== 'persona') || (body.persona_id !== undefined && body.persona_id !== personaId)) {
      throw forbidden(`this portal link manages only webhooks with scope_type "persona" and persona_id "${personaId}"`)
    }
  }
}

/**
 * The `X-Kejue-Portal` response header of portal requests, e.g. `read_only=1; persona_id=per_a`:
 * the dashboard reads it to leave out actions the link may not take (the API refuses them anyway).
 */
export function portalDescription (portal: PortalPrincipal): string {
  const parts = [`read_only=${portal.readOnly ? 1 : 0}`]
  if (portal.personaId !== null) parts.push(`persona_id=${encodeURIComponent(portal.personaId)}`)
  parts.push(`expires_at=${new Date(portal.expiresAt).toISOString()}`)
  return parts.join('; ')
}
