/**
 * The OpenAPI document as a code generator needs it (docs/api.md, "OpenAPI"): named component
 * schemas referenced with $ref (the error object, the webhook, delivery and attempt objects, the
 * envelope and every event payload), examples that validate, a description on every response,
 * and the publish body's example a valid event (what /docs' "Try it out" sends).
 *
 * The components are registered with fastify (addSchema) so @fastify/swagger converts them like
 * the routes' schemas; `enrichOpenApi` then replaces each inline copy in the routes with a $ref.
 * Request validation is untouched: it still runs on the routes' own schemas.
 */
import { OPTIONAL_BODY } from './validation.js'
import type { TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { EVENT_CATALOG } from '../events/catalog.js'
import { EVENT_TYPES } from '../events/event-types.js'
import type { EventType } from '../events/event-types.js'
import { samplePayload } from '../events/samples.js'
import { WebhookDisabledDataSchema } from '../events/schemas/operational.js'
import { ErrorResponse } from './schemas/common.js'
import { AttemptObject, DeliveryObject } from './schemas/deliveries.js'
import { EnvelopeObject } from './schemas/events.js'
import { WebhookObject, WebhookStatsResponse } from './schemas/webhooks.js'
import { PortalSessionObject } from './schemas/portal.js'

/** `call.ended` → `CallEndedData`. */
export function payloadSchemaName (type: string): string {
  return `${type.split(/[._]/).map((part) => (part[0]?.toUpperCase() ?? '') + part.slice(1)).join('')}Data`
}


const EXAMPLE_TIME = new Date('2025-01-15T10:30:00.000Z')

const WEBHOOK_DISABLED_EXAMPLE = {
  webhook_id: 'wh_01JH8Z3K6Q9W2M4T7V5X0Y1B3C',
  url: 'https://example.com/webhooks/kejue',
  reason: 'failing',
  disabled_at: EXAMPLE_TIME.toISOString(),
  consecutive_failures: 20,
  last_error: 'HTTP 500',
}

export const ERROR_EXAMPLE = {
  error: 'url must be an http or https URL',
  code: 'VALIDATION',
  details: { fields: [{ path: 'url', message: 'must be an http or https URL' }] },
}

const WEBHOOK_EXAMPLE = {
  id: 'wh_01JH8Z3K6Q9W2M4T7V5X0Y1B3C',
  url: 'https://example.com/webhooks/kejue',
  events: ['call.ended', 'call.analyzed'],
  name: 'CRM sync',
  signing_method: 'hmac_sha256',
  scope_type: 'global',
  persona_id: null,
  enabled: true,
  disabled_reason: null,
  disabled_at: null,
  health: { consecutive_failures: 1, breaker: 'closed', last_success_at: '2025-01-15T10:29:58.000Z' },
  retry_schedule_ms: null,
  delivery_settings: { timeout_ms: 5000, max_retries: 3, backoff_ms: 500 },
  stats: { total_deliveries: 120, failed_deliveries: 2, success_rate: 98.3, parked_deliveries: 0 },
  ordering: 'per_call',
  filter: { 'data.status': 'completed' },
  headers: { 'X-Tenant': 'acme' },
  rate_limit_per_s: null,
  last_delivery_at: EXAMPLE_TIME.toISOString(),
  last_error: 'server responded 503',
  secret_rotation: null,
  created_at: '2025-01-10T08:00:00.000Z',
  updated_at: '2025-01-10T08:00:00.000Z',
}

const ATTEMPT_EXAMPLE = {
  attempt: 1,
  started_at: EXAMPLE_TIME.toISOString(),
  duration_ms: 41,
  status_code: 503,
  error: 'server responded 503',
  response_excerpt: 'upstream unavailable',
  request_headers: {
    'Content-Type': 'application/json',
    'User-Agent': 'kejue-webhooks/0.1.0',
    'X-Kejue-Event': 'call.ended',
    'X-Kejue-Event-Id': 'evt_01JH8Z3K6Q9W2M4T7V5X0Y1B3D',
    'X-Kejue-Delivery-Id': 'dlv_01JH8Z3K6Q9W2M4T7V5X0Y1B3E',
    'X-Kejue-Attempt': '1',
    'X-Kejue-Timestamp': String(EXAMPLE_TIME.getTime()),
    'X-Kejue-Signature': 'sha256=••••••',
  },
}

const DELIVERY_EXAMPLE = {
  id: 'dlv_01JH8Z3K6Q9W2M4T7V5X0Y1B3E',
  event_id: 'evt_01JH8Z3K6Q9W2M4T7V5X0Y1B3D',
  event: 'call.ended',
  webhook_id: WEBHOOK_EXAMPLE.id,
  url: WEBHOOK_EXAMPLE.url,
  status: 'pending',
  attempts: [ATTEMPT_EXAMPLE],
  attempt_count: 1,
  max_attempts: 4,
  next_attempt_at: '2025-01-15T10:30:00.541Z',
  last_error: 'server responded 503',
  created_at: EXAMPLE_TIME.toISOString(),
  updated_at: EXAMPLE_TIME.toISOString(),
}

/** Named schemas of the document, with their examples. */
export function openApiComponents (): Array<{ name: string, schema: TSchema, example?: unknown }> {
  const payloads = EVENT_TYPES.map((type: EventType) => ({
    name: payloadSchemaName(type),
    schema: EVENT_CATALOG[type].schema,
    example: samplePayload(type, {}, EXAMPLE_TIME),
  }))
  return [
    { name: 'Error', schema: ErrorResponse, example: ERROR_EXAMPLE },
    { name: 'Webhook', schema: WebhookObject, example: WEBHOOK_EXAMPLE },
    { name: 'Delivery', schema: DeliveryObject, example: DELIVERY_EXAMPLE },
    { name: 'Attempt', schema: AttemptObject, example: ATTEMPT_EXAMPLE },
    { name: 'Envelope', schema: EnvelopeObject },
    { name: 'WebhookStats', schema: WebhookStatsResponse },
    { name: 'PortalSession', schema: PortalSessionObject },
    ...payloads,
    { name: payloadSchemaName('webhook.disabled'), schema: WebhookDisabledDataSchema, example: WEBHOOK_DISABLED_EXAMPLE },
  ]
}

/** Adds the components to fastify's shared schemas, so @fastify/swagger lists and converts them. */
export function registerOpenApiComponents (app: FastifyInstance): void {
  for (const { name, schema, example } of openApiComponents()) {
    app.addSchema({ ...schema, $id: name, ...(example === undefined ? {} : { example }) })
  }
}

/** @fastify/swagger names a shared schema by its $id instead of `def-<n>`. */
export function buildLocalReference (json: { $id?: unknown }, _baseUri: unknown, _fragment: unknown, i: number): string {
  return typeof json.$id === 'string' ? json.$id : `def-${i}`
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

function isObject (value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A stable text of a schema for equality, ignoring what a component adds ($id, title, example). */
function shape (value: Json): string {
  if (Array.isArray(value)) return `[${value.map(shape).join(',')}]`
  if (!isObject(value)) return JSON.stringify(value)
  const keys = Object.keys(value).filter((k) => k !== '$id' && k !== 'title' && k !== 'example' && k !== 'description').sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${shape(value[k] ?? null)}`).join(',')}}`
}

const STATUS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'Done; no body',
  400: 'Bad request: the body is not JSON, or not valid UTF-8',
  401: 'No credential, or an unknown, revoked or expired one',
  403: 'The credential is valid but may not do this (admin key on a workspace route, read-only portal token writing…)',
  404: 'Not found (also for another workspace\'s objects)',
  409: 'Conflict with the object\'s current state',
  413: 'The body is larger than KEJUE_BODY_LIMIT_BYTES',
  415: 'The body is not application/json',
  422: 'Invalid input; details.fields names each field',
  503: 'The store cannot be reached or written (STORE_UNAVAILABLE); retry shortly',
}

const EVENT_EXAMPLE = { event: 'call.ended', data: samplePayload('call.ended', {}, EXAMPLE_TIME), metadata: { source: 'docs' } }

/**
 * The document @fastify/swagger made, with inline copies of the components replaced by $refs,
 * the event payloads linked from the publish body and the envelope, and a description on every
 * response.
 */
export function enrichOpenApi<T> (document: T): T {
  const doc = document as unknown as JsonObject
  const components = (isObject(doc.components) ? doc.components : (doc.components = {})) as JsonObject
  const schemas = (isObject(components.schemas) ? components.schemas : (components.schemas = {})) as JsonObject
  const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` })
  // A producer publishes the catalog's types; an envelope may also carry webhook.disabled, which
  // only the service itself sends.
  const publishedRefs = EVENT_TYPES.map(payloadSchemaName).map(ref)
  const dataSchema = (refs: JsonObject[]): JsonObject => ({ anyOf: refs, description: 'The event\'s data: the payload schema of its type (see `event`)' })

  // Largest first, so a Delivery is replaced whole before its attempts are looked at.
  const named = ['Webhook', 'Delivery', 'Envelope', 'WebhookStats', 'PortalSession', 'Attempt', 'Error']
    .filter((name) => isObject(schemas[name]))
    .map((name) => ({ name, shape: shape(schemas[name] as Json) }))
  const replace = (node: Json, inside: string | null): Json => {
    if (Array.isArray(node)) return node.map((item) => replace(item, inside))
    if (!isObject(node)) return node
    for (const { name, shape: s } of named) {
      if (name !== inside && shape(node) === s) {
        return typeof node.description === 'string' ? { allOf: [ref(name)], description: node.description } : ref(name)
      }
    }
    const out: JsonObject = {}
    for (const [key, value] of Object.entries(node)) out[key] = replace(value, inside)
    return out
  }
  for (const { name } of named) schemas[name] = replace(schemas[name] as Json, name)
  const envelope = schemas.Envelope
  if (isObject(envelope) && isObject(envelope.properties)) envelope.properties.data = dataSchema([...publishedRefs, ref(payloadSchemaName('webhook.disabled'))])

  const paths = isObject(doc.paths) ? doc.paths : {}
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue
    for (const [method, op] of Object.entries(item)) {
      if (!isObject(op)) continue
      const summary = typeof op.summary === 'string' ? op.summary : ''
      const responses = isObject(op.responses) ? op.responses : {}
      for (const [status, response] of Object.entries(responses)) {
        if (!isObject(response)) continue
        if (response.description === 'Default Response' || typeof response.description !== 'string') {
          response.description = status.startsWith('2') && summary !== '' && status !== '204'
            ? `${STATUS_DESCRIPTIONS[status] ?? 'Success'}: ${summary[0]?.toLowerCase() ?? ''}${summary.slice(1)}`
            : STATUS_DESCRIPTIONS[status] ?? 'See docs/errors.md'
        }
      }
      // A body the route accepts absent (x-optional-body) is not required, so generated clients
      // may leave it out.
      if (isObject(op.requestBody) && isObject(op.requestBody.content)) {
        const schemas = Object.values(op.requestBody.content).map((c) => (isObject(c) ? c.schema : undefined))
        if (schemas.some((schema) => isObject(schema) && schema[OPTIONAL_BODY] === true)) op.requestBody.required = false
      }
      item[method] = replace(op, null)
    }
    const publish = item.post
    if (path.endsWith('/events') && isObject(publish) && isObject(publish.requestBody)) {
      const content = publish.requestBody.content
      const json = isObject(content) ? content['application/json'] : undefined
      if (isObject(json) && isObject(json.schema) && isObject(json.schema.properties)) {
        json.schema.properties.data = dataSchema(publishedRefs)
        json.schema.example = EVENT_EXAMPLE as unknown as Json
      }
    }
  }
  return document
}
