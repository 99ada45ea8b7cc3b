/**
 * Turning a webhook create/update body into store terms, with the checks a schema cannot make:
 * URL syntax (http/https, no userinfo, ≤ 2083 chars), the destination guard (docs/wire-format.md#delivery-policy:
 * internal addresses are refused with 422 unless private networks are allowed), secret rules
 * per signing method, persona scope, and the two spellings of the delivery settings.
 * Shared by POST/PATCH /webhooks and the inline webhooks of POST /persona-calls.
 */
import type { Static } from '@sinclair/typebox'
import { DEFAULTS } from '../config/defaults.js'
import { checkDestination, checkUrlShape, FORBIDDEN_DESTINATION_MESSAGE } from '../delivery/ssrf.js'
import { ServiceError, validationError } from '../errors.js'
import type { FieldError } from '../errors.js'
import { randomBytes } from 'node:crypto'
import { filterProblems } from '../events/filter.js'
import { customHeaderProblems } from '../delivery/custom-headers.js'
import { DEFAULT_SIGNING_METHOD, methodNeedsSecret, STANDARD_WEBHOOKS_SECRET_PREFIX, standardWebhooksKey } from '../signing/methods.js'
import type { SigningMethod } from '../signing/methods.js'
import type { NewWebhook, ScopeType, Webhook, WebhookPatch } from '../store/store.js'
import { newId, newToken } from '../util/ids.js'
import { isOperationalEventType } from '../events/event-types.js'
import type { CreateWebhookBody, DeliverySettingsInput, UpdateWebhookBody } from './schemas/webhooks.js'

export type CreateWebhookInput = Static<typeof CreateWebhookBody>
export type UpdateWebhookInput = Static<typeof UpdateWebhookBody>

export interface WebhookInputContext {
  allowPrivateNetworks: boolean
  /** Prefix of every field path, e.g. `config.webhooks[0].` for inline webhooks. */
  pathPrefix?: string
}

/**
 * A syntax problem with a webhook URL (http/https, no userinfo, ≤ 2083 chars), or null. Reported
 * as VALIDATION; the destination guard runs only on URLs that pass.
 */
export function urlProblem (url: string): string | null {
  const shape = checkUrlShape(url)
  return shape.ok ? null : shape.reason.replace(/^url /, '')
}

/** Refuses internal destinations with 422 DESTINATION_NOT_ALLOWED (docs/wire-format.md#delivery-policy). */
export async function assertDestinationAllowed (url: string, ctx: WebhookInputContext): Promise<void> {
  const path = `${ctx.pathPrefix ?? ''}url`
  const result = await checkDestination(url, { allowPrivateNetworks: ctx.allowPrivateNetworks })
  if (result.ok) return
  // The first thing a developer with a receiver on their own machine runs into: say how to allow it.
  const hint = result.reason === FORBIDDEN_DESTINATION_MESSAGE && !ctx.allowPrivateNetworks
    ? ' (a server started with KEJUE_ALLOW_PRIVATE_NETWORKS=true allows them, for local development only)'
    : ''
  throw new ServiceError('DESTINATION_NOT_ALLOWED', `${path} is not an allowed destination: ${result.reason}${hint}`, {
    details: { fields: [{ path, message: result.reason }] },
  })
}

/** A new secret for `method`: `whsec_<base64 of 24 random bytes>` for standard_webhooks (docs/wire-format.md). */
export function generateSecret (method: SigningMethod = DEFAULT_SIGNING_METHOD): string {
  if (method === 'standard_webhooks') return `${STANDARD_WEBHOOKS_SECRET_PREFIX}${randomBytes(24).toString('base64')}`
  return newToken('whsec')
}

/** Methods whose secret is an HMAC key in its own form; switching between them needs a new secret. */
const HMAC_KEYED: readonly SigningMethod[] = ['hmac_sha256', 'hmac_sha1', 'standard_webhooks']

function isBasicAuthSecret (secret: string): boolean {
  const colon = secret.indexOf(':')
  return colon > 0 && colon < secret.length - 1
}

interface OptionsInput {
  ordering?: Webhook['ordering'] | null
  filter?: Record<string, unknown> | null
  headers?: Record<string, unknown> | null
  rate_limit_per_s?: number | null
}

/**
 * The subscription options given (docs/api.md): `null` clears one (back to its default), a
 * missing one is left out of the result. Filters and headers are checked here, naming the path.
 */
function optionsFrom (input: OptionsInput, errors: FieldError[]): Partial<Pick<Webhook, 'ordering' | 'filter' | 'headers' | 'rateLimitPerS'>> {
  const out: Partial<Pick<Webhook, 'ordering' | 'filter' | 'headers' | 'rateLimitPerS'>> = {}
  if (input.ordering !== undefined) out.ordering = input.ordering ?? 'none'
  if (input.filter !== undefined) {
    if (input.filter !== null) errors.push(...filterProblems(input.filter))
    out.filter = input.filter
  }
  if (input.headers !== undefined) {
    if (input.headers !== null) errors.push(...customHeaderProblems(input.headers))
    // No headers is the same as none given.
    out.headers = input.headers === null || Object.keys(input.headers).length === 0 ? null : input.headers as Record<string, string>
  }
  if (input.rate_limit_per_s !== undefined) out.rateLimitPerS = input.rate_limit_per_s
  return out
}

interface SettingsInput {
  timeout_ms?: number
  max_retries?: number
  backoff_ms?: number
  delivery_settings?: Static<typeof DeliverySettingsInput>
}

const SETTING_KEYS = [['timeout_ms', 'timeoutMs'], ['max_retries', 'maxRetries'], ['backoff_ms', 'backoffMs']] as const

/** The delivery settings given, flat or nested under delivery_settings (both spellings work). */
function settingsFrom (input: SettingsInput, prefix: string, errors: FieldError[]): Partial<Pick<Webhook, 'timeoutMs' | 'maxRetries' | 'backoffMs'>> {
  const out: Partial<Pick<Webhook, 'timeoutMs' | 'maxRetries' | 'backoffMs'>> = {}
  for (const [wire, key] of SETTING_KEYS) {
    const flat = input[wire]
    const nested = input.delivery_settings?.[wire]
    if (flat !== undefined && nested !== undefined && flat !== nested) {
      errors.push({ path: `${prefix}delivery_settings.${wire}`, message: `conflicts with ${wire}; give it once` })
    }
    const value = flat ?? nested
    if (value !== undefined) out[key] = value
  }
  return out
}

/**
 * With a retry schedule, the schedule's length is the number of retries (docs/delivery.md): a
 * max_retries given beside it (or while one is set) must agree, else it would be read back changed.
 */
function checkRetriesAgainstSchedule (maxRetries: number | undefined, schedule: readonly number[] | null | undefined, errors: FieldError[]): void {
  if (maxRetries === undefined || schedule === null || schedule === undefined || maxRetries === schedule.length) return
  errors.push({ path: 'max_retries', message: `must be ${schedule.length}, the length of retry_schedule_ms, or left out (clear retry_schedule_ms with null to set max_retries alone)` })
}

function dedupe (events: readonly string[]): string[] {
  return [...new Set(events)]
}

/** Inline (per-call) webhooks take call events only: an operational type (webhook.disabled) is refused. */
function checkInlineEvents (events: readonly string[], prefix: string, errors: FieldError[]): void {
  events.forEach((event, index) => {
    if (isOperationalEventType(event)) errors.push({ path: `${prefix}events[${index}]`, message: `${event} is an operational event; only workspace webhooks can subscribe to it` })
  })
}

/** Secret rules for one signing method; returns the secret to store. */
function resolveSecret (method: SigningMethod, given: string | undefined, prefix: string, errors: FieldError[]): string | null {
  if (!methodNeedsSecret(method)) {
    if (given !== undefined) errors.push({ path: `${prefix}secret`, message: 'must be left out for signing_method none, which sends no secret' })
    return null
  }
  if (method === 'basic_auth') {
    if (given === undefined) {
      errors.push({ path: `${prefix}secret`, message: 'is required for basic_auth, as "user:password"' })
      return null
    }
    if (!isBasicAuthSecret(given)) errors.push({ path: `${prefix}secret`, message: 'must be "user:password" for basic_auth' })
    return given
  }
  if (method === 'standard_webhooks' && given !== undefined && standardWebhooksKey(given) === null) {
    errors.push({ path: `${prefix}secret`, message: 'must be "whsec_" followed by the base64 of 16–64 key bytes for standard_webhooks' })
  }
  return given ?? generateSecret(method)
}

/** Checks of a secret given for `method` (create, PATCH, rotation): the problems found, if any. */
export function secretProblems (method: SigningMethod, secret: string | undefined, prefix = ''): FieldError[] {
  const errors: FieldError[] = []
  resolveSecret(method, secret, prefix, errors)
  return errors
}

function resolveScope (scopeType: ScopeType, personaId: string | null | undefined, prefix: string, errors: FieldError[]): string | null {
  if (scopeType === 'persona') {
    if (personaId === undefined || personaId === null) errors.push({ path: `${prefix}persona_id`, message: 'is required when scope_type is persona' })
    return personaId ?? null
  }
  if (personaId !== undefined && personaId !== null) {
    errors.push({ path: `${prefix}persona_id`, message: 'only applies to scope_type persona; set scope_type to persona or leave persona_id out' })
  }
  return null
}

function throwIfAny (errors: FieldError[]): void {
  if (errors.length === 0) return
  throw validationError(`invalid field${errors.length === 1 ? '' : 's'}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors)
}

function checkUrl (url: string, prefix: string, errors: FieldError[]): void {
  const problem = urlProblem(url)
  if (problem !== null) errors.push({ path: `${prefix}url`, message: problem })
}

/** A new webhook from a create body (or an inline webhook of a call when `jobId` is set). */
export async function newWebhookFromInput (
  input: CreateWebhookInput,
  ctx: WebhookInputContext,
  owner: { workspaceId: string, jobId: string | null },
): Promise<NewWebhook> {
  const prefix = ctx.pathPrefix ?? ''
  const errors: FieldError[] = []
  checkUrl(input.url, prefix, errors)
  const signingMethod = input.signing_method ?? DEFAULT_SIGNING_METHOD
  const secret = resolveSecret(signingMethod, input.secret, prefix, errors)
  const scopeType = input.scope_type ?? 'global'
  const personaId = resolveScope(scopeType, input.persona_id, prefix, errors)
  const settings = settingsFrom(input, prefix, errors)
  checkRetriesAgainstSchedule(settings.maxRetries, input.retry_schedule_ms, errors)
  const options = optionsFrom(input, errors)
  if (owner.jobId !== null) {
    checkInlineEvents(input.events, prefix, errors)
    // Nothing returns an inline webhook's generated secret: its receiver could never verify.
    if (input.secret === undefined && methodNeedsSecret(signingMethod) && signingMethod !== 'basic_auth') {
      errors.push({ path: `${prefix}secret`, message: `is required for ${signingMethod} on an inline webhook (no answer returns a generated one); or use signing_method none` })
    }
  }
  throwIfAny(errors)
  await assertDestinationAllowed(input.url, ctx)
  return {
    ...options,
    id: newId('wh'),
    workspaceId: owner.workspaceId,
    url: input.url,
    events: dedupe(input.events),
    name: input.name ?? null,
    signingMethod,
    secret,
    scopeType,
    personaId,
    enabled: input.enabled ?? true,
    jobId: owner.jobId,
    timeoutMs: settings.timeoutMs ?? DEFAULTS.delivery.timeoutMs,
    maxRetries: settings.maxRetries ?? DEFAULTS.delivery.maxRetries,
    backoffMs: settings.backoffMs ?? DEFAULTS.delivery.backoffMs,
    retryScheduleMs: input.retry_schedule_ms ?? null,
  }
}

/** A patch from a PATCH body, checked against the webhook as it would be after the update. */
export async function webhookPatchFromInput (
  existing: Webhook,
  input: UpdateWebhookInput,
  ctx: WebhookInputContext,
): Promise<WebhookPatch> {
  const errors: FieldError[] = []
  const patch: WebhookPatch = {}
  if (input.url !== undefined) {
    checkUrl(input.url, '', errors)
    patch.url = input.url
  }
  if (input.events !== undefined) patch.events = dedupe(input.events)
  if (input.name !== undefined) patch.name = input.name
  // `enabled` is not a plain field: disabling parks deliveries and enabling replays them (routes/webhooks.ts).
  if (input.retry_schedule_ms !== undefined) patch.retryScheduleMs = input.retry_schedule_ms

  const method = input.signing_method ?? existing.signingMethod
  if (input.signing_method !== undefined) patch.signingMethod = input.signing_method
  if (input.secret !== undefined) {
    patch.secret = resolveSecret(method, input.secret, '', errors)
  } else if (method !== existing.signingMethod) {
    if (!methodNeedsSecret(method)) patch.secret = null
    else if (method === 'standard_webhooks' || (existing.signingMethod === 'standard_webhooks' && HMAC_KEYED.includes(method))) {
      // The two kinds of keys are not interchangeable (a whsec_ key is base64 bytes for one, text for the other).
      errors.push({ path: 'secret', message: `is required when switching signing_method from ${existing.signingMethod} to ${method}` })
    }
    else if (method === 'basic_auth' && (existing.secret === null || !isBasicAuthSecret(existing.secret))) {
      errors.push({ path: 'secret', message: 'is required when switching to basic_auth, as "user:password"' })
    } else if (existing.secret === null) {
      // A generated secret could only be shown here, and only create shows secrets.
      errors.push({ path: 'secret', message: `is required when switching from signing_method none to ${method}` })
    }
  }

  const scopeType = input.scope_type ?? existing.scopeType
  if (input.scope_type !== undefined || input.persona_id !== undefined) {
    // Moving to global drops the stored persona; naming one with global is an error.
    const personaInput = input.persona_id !== undefined ? input.persona_id : scopeType === 'persona' ? existing.personaId : undefined
    const personaId = resolveScope(scopeType, personaInput, '', errors)
    patch.scopeType = scopeType
    patch.personaId = personaId
  }
  // A secret replaced by PATCH (or dropped by a method change) ends any rotation overlap at once;
  // POST /webhooks/{id}/rotate-secret is the way to rotate with one.
  if ((patch.secret !== undefined || patch.signingMethod !== undefined) && existing.previousSecret !== null) {
    patch.previousSecret = null
    patch.previousSecretExpiresAt = null
  }
  const settings = settingsFrom(input, '', errors)
  checkRetriesAgainstSchedule(settings.maxRetries, input.retry_schedule_ms !== undefined ? input.retry_schedule_ms : existing.retryScheduleMs, errors)
  Object.assign(patch, settings, optionsFrom(input, errors))
  throwIfAny(errors)
  if (input.url !== undefined) await assertDestinationAllowed(input.url, ctx)
  return patch
}
