import { newId } from '../../src/util/ids.js'
import { HEALTHY, subscriptionOptions } from '../../src/store/store.js'
import type {
  AttemptResult, Call, ClaimedDelivery, NewAttempt, NewDelivery, NewWebhook, RecordEventInput, Settlement,
  Store, StoredEvent, Webhook, Workspace,
} from '../../src/store/store.js'

/**
 * Builders for the store contract: every time is an offset from T0 so that tests never read the
 * clock, and every id is a fresh ULID-based id so that tests never collide.
 */
export const T0 = Date.parse('2031-03-04T05:06:07.000Z')

export function at (offsetMs: number): Date {
  return new Date(T0 + offsetMs)
}

export function workspace (name = 'Acme'): Workspace {
  return { id: newId('ws'), name, createdAt: at(0) }
}

export function webhookInput (workspaceId: string, overrides: Partial<NewWebhook> = {}): NewWebhook {
  return {
    id: newId('wh'),
    workspaceId,
    url: 'https://example.com/hooks',
    events: ['*'],
    name: null,
    signingMethod: 'hmac_sha256',
    secret: 'whsec_test-secret',
    previousSecret: null,
    previousSecretExpiresAt: null,
    scopeType: 'global',
    personaId: null,
    enabled: true,
    jobId: null,
    timeoutMs: 5_000,
    maxRetries: 3,
    backoffMs: 500,
    ordering: 'none',
    filter: null,
    headers: null,
    rateLimitPerS: null,
    ...overrides,
  }
}

/** The webhook a store returns for `input` created at `createdAt`: fresh health, disabled "manual" when created disabled. */
export function storedWebhook (input: NewWebhook, createdAt: Date): Webhook {
  return {
    ...input,
    ...subscriptionOptions(input),
    previousSecret: input.previousSecret ?? null,
    previousSecretExpiresAt: input.previousSecretExpiresAt ?? null,
    disabledReason: input.enabled ? null : 'manual',
    disabledAt: input.enabled ? null : createdAt,
    health: HEALTHY,
    retryScheduleMs: input.retryScheduleMs ?? null,
    createdAt,
    updatedAt: createdAt,
  }
}

export function event (workspaceId: string, type = 'call.ended', createdAt: Date = at(0)): StoredEvent {
  const id = newId('evt')
  const body = JSON.stringify({
    event: type,
    event_id: id,
    workspace_id: workspaceId,
    timestamp: createdAt.toISOString(),
    data: { job_id: 'job_1' },
    metadata: {},
  })
  return { id, workspaceId, type, body, createdAt }
}

export function deliveryTo (webhook: Webhook, nextAttemptAt: Date = at(0), maxAttempts = 1 + webhook.maxRetries, orderKey: string | null = null): NewDelivery {
  return { id: newId('dlv'), webhookId: webhook.id, url: webhook.url, maxAttempts, nextAttemptAt, orderKey }
}

/** One event of `type` with one delivery to each webhook, all due at `dueAt`. */
export function eventFor (webhooks: readonly Webhook[], options: { type?: string, dueAt?: Date } = {}): RecordEventInput {
  const first = webhooks[0]
  if (first === undefined) throw new Error('eventFor needs at least one webhook')
  const dueAt = options.dueAt ?? at(0)
  return {
    event: event(first.workspaceId, options.type ?? 'call.ended', dueAt),
    deliveries: webhooks.map((webhook) => deliveryTo(webhook, dueAt)),
  }
}

/** A workspace with `count` webhooks (created in order, 1 ms apart). */
export async function seed (store: Store, count = 1): Promise<{ ws: Workspace, webhooks: Webhook[] }> {
  const ws = workspace()
  await store.createWorkspace(ws)
  const webhooks: Webhook[] = []
  for (let i = 0; i < count; i++) {
    webhooks.push(await store.createWebhook(webhookInput(ws.id, { name: `hook ${i}` }), at(i)))
  }
  return { ws, webhooks }
}

export function attempt (claimed: ClaimedDelivery, overrides: Partial<NewAttempt> = {}): NewAttempt {
  return {
    attempt: claimed.attempt,
    startedAt: at(1_000),
    durationMs: 12,
    statusCode: 200,
    error: null,
    responseExcerpt: 'ok',
    ...overrides,
  }
}

export function result (claimed: ClaimedDelivery, settlement: Settlement, overrides: Partial<NewAttempt> = {}): AttemptResult {
  return { deliveryId: claimed.deliveryId, leaseToken: claimed.leaseToken, attempt: attempt(claimed, overrides), settlement }
}

export function claimOptions (now: Date, overrides: Partial<{ limit: number, leaseMs: number, owner: string, excludeWebhookIds: string[], cliHubId: string }> = {}) {
  return { now, limit: 100, leaseMs: 30_000, owner: 'test-worker', ...overrides }
}

/** A call as routing reads it (Store.routingState). */
export async function callOf (store: Store, workspaceId: string, jobId: string): Promise<Call | null> {
  return (await store.routingState(workspaceId, jobId)).call
}

/** A workspace's routes version as routing reads it (Store.routingState). */
export async function routesVersionOf (store: Store, workspaceId: string): Promise<number> {
  return (await store.routingState(workspaceId, null)).routesVersion
}
