/**
 * The Store: every durable operation of kejue-webhooks, in domain terms. It is the contract that
 * each driver (sqlite/, postgres/) implements and that test/contract/store.contract.ts checks.
 * The delivery engine, the API and the CLI see only this file, never a driver folder.
 *
 * Times are `Date` here; drivers keep them as integer Unix milliseconds.
 * Rows are not API shapes: the API maps them (api/presenters.ts).
 */
import type { EventKeys } from '../events/event-keys.js'
import type { SigningMethod } from '../signing/methods.js'

export type ScopeType = 'global' | 'persona'

/** The error a delivery ends with when its webhook is deleted (the engine and both drivers). */
export const WEBHOOK_DELETED_ERROR = 'webhook deleted'
/** The error a delivery ends with when its event was erased (docs/privacy.md); never retried. */
export const ERASED_ERROR = 'erased'
/** `parked`: stored for a disabled webhook, neither sent nor failed (docs/delivery.md, "The life of an endpoint"). */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'parked'
/** Every DeliveryStatus: a listing without a status filter reads one index range per status (delivery-filter.ts). */
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'parked']

/** Why a webhook is disabled: by hand, by a 410 Gone, or by failing for too long. */
export type DisabledReason = 'manual' | 'gone' | 'failing'
export type BreakerState = 'closed' | 'open' | 'half_open'

/**
 * An endpoint's health, kept on the webhook row so that every worker process shares it. The
 * rules that change it are in src/delivery/endpoint-health.ts; the store only keeps it.
 */
export interface WebhookHealth {
  /** Failed attempts in a row (any non-2xx outcome); a 2xx sets it to 0. */
  consecutiveFailures: number
  breaker: BreakerState
  /** While open (or half open): when the next probe may go. */
  breakerProbeAt: Date | null
  /** The cool-down the breaker is in (doubles after each failed probe); 0 while closed. */
  breakerCooldownMs: number
  lastSuccessAt: Date | null
  /** Deliveries in a row that ended failed (auto-disable); a delivery that succeeds sets it to 0. */
  failedDeliveriesInRow: number
  /** Creation time of the first delivery of that failed run. */
  failingSince: Date | null
}

export const HEALTHY: WebhookHealth = {
  consecutiveFailures: 0,
  breaker: 'closed',
  breakerProbeAt: null,
  breakerCooldownMs: 0,
  lastSuccessAt: null,
  failedDeliveriesInRow: 0,
  failingSince: null,
}

/**
 * The error a parked delivery ends with when its webhook is enabled with `replay_parked: false`,
 * or when retention discards it (docs/storage.md, "Retention").
 */
export const DISCARDED_ERROR = 'discarded'

export interface Workspace {
  id: string
  name: string
  createdAt: Date
}

export interface ApiKey {
  id: string
  /** null for an admin key. */
  workspaceId: string | null
  /** sha256 hex of the key; the key itself is never stored. */
  hash: string
  /** The first characters of the key, to tell keys apart in listings. */
  prefix: string
  createdAt: Date
  revokedAt: Date | null
}

/** `ordering` of a webhook (docs/delivery.md, "Per-call ordering"). */
export type Ordering = 'none' | 'per_call'

/**
 * A webhook's payload filter (docs/api.md, "Filters"): dotted envelope path → condition. Checked
 * by the API (src/delivery/filter.ts) before it is stored; the store keeps it as JSON.
 */
export type WebhookFilter = Record<string, unknown>

export interface DeliverySettings {
  timeoutMs: number
  maxRetries: number
  backoffMs: number
}

/**
 * A destination. Subscriptions are workspace webhooks (`jobId` null). Inline webhooks (spec
 * "Inline Webhooks") are stored the same way with the `jobId` of their call; they never show in
 * webhook listings and the API reports their deliveries with `webhook_id: null`.
 */
export interface Webhook extends DeliverySettings {
  id: string
  workspaceId: string
  url: string
  events: string[]
  name: string | null
  signingMethod: SigningMethod
  /** Needed in clear text to sign; only the create response shows it. Stored sealed (src/store/secrets). */
  secret: string | null
  /**
   * The secret before the last rotation, still signing `X-Kejue-Signature` until
   * `previousSecretExpiresAt` (docs/wire-format.md, "Secret rotation"); null when no overlap runs.
   */
  previousSecret: string | null
  previousSecretExpiresAt: Date | null
  scopeType: ScopeType
  personaId: string | null
  /** False exactly when `disabledReason` is set. */
  enabled: boolean
  disabledReason: DisabledReason | null
  disabledAt: Date | null
  health: WebhookHealth
  /** Per-retry waits (1–20 of them); null: backoff_ms doubling (docs/delivery.md). */
  retryScheduleMs: number[] | null
  jobId: string | null
  /** 'per_call': one delivery at a time per call (see NewDelivery.orderKey). */
  ordering: Ordering
  /** null: every routed event is delivered. */
  filter: WebhookFilter | null
  /** Custom headers sent on every attempt; null when none. */
  headers: Record<string, string> | null
  /** At most this many attempts start in any one second; null: no limit. */
  rateLimitPerS: number | null
  createdAt: Date
  updatedAt: Date
}

/** The subscription options (docs/api.md); a NewWebhook may leave them out: none of them is in effect. */
type SubscriptionOption = 'ordering' | 'filter' | 'headers' | 'rateLimitPerS'

/**
 * A webhook to create; a new webhook has no rotation running and no subscription option unless
 * given. One created with `enabled: false` is disabled with reason "manual".
 */
export type NewWebhook = Omit<Webhook, 'createdAt' | 'updatedAt' | 'previousSecret' | 'previousSecretExpiresAt' | SubscriptionOption |
  'disabledReason' | 'disabledAt' | 'health' | 'retryScheduleMs'> &
  Partial<Pick<Webhook, 'previousSecret' | 'previousSecretExpiresAt' | SubscriptionOption>> & { retryScheduleMs?: number[] | null }

/** A NewWebhook with every subscription option spelled out (what both drivers store). */
export function subscriptionOptions (webhook: NewWebhook): Pick<Webhook, SubscriptionOption> {
  return {
    ordering: webhook.ordering ?? 'none',
    filter: webhook.filter ?? null,
    headers: webhook.headers ?? null,
    rateLimitPerS: webhook.rateLimitPerS ?? null,
  }
}

/**
 * `enabled` here only flips the flag (and the reason, "manual" or none); disableWebhook and
 * enableWebhook also park and replay deliveries, which is what the API uses.
 */
export type WebhookPatch = Partial<Pick<Webhook,
  'url' | 'events' | 'name' | 'signingMethod' | 'secret' | 'scopeType' | 'personaId' | 'enabled' |
  'timeoutMs' | 'maxRetries' | 'backoffMs' | 'ordering' | 'filter' | 'headers' | 'rateLimitPerS' |
  'previousSecret' | 'previousSecretExpiresAt' | 'retryScheduleMs'>>

/**
 * A webhook's secret fields exactly as stored (sealed, or clear in a store older than
 * encryption), for the codec's upgrade and `reencrypt` (src/store/secrets). Only ids and
 * secret fields: nothing here is opened.
 */
export interface StoredSecretFields {
  id: string
  secret: string | null
  previousSecret: string | null
  /** Custom header values, each sealed on its own (the names stay readable), or null. */
  headers: Record<string, string> | null
}

/** Where the retention sweep over events stands: (createdAt, workspaceId, id) order. */
export interface EventKey {
  createdAt: Date
  workspaceId: string
  id: string
}

/** What one retention batch deleted (docs/storage.md, "Retention"). */
export interface PruneResult {
  deliveries: number
  attempts: number
  events: number
}

/** An erasure request's record (docs/privacy.md): ids and a count, no personal data. */
export interface Erasure {
  id: string
  workspaceId: string
  contactId: string | null
  jobId: string | null
  eventsMatched: number
  createdAt: Date
}

export interface EraseEventsInput {
  erasure: Erasure
  /** Each matched event with its reduced body (src/delivery/erasure.ts decides what is kept). */
  events: ReadonlyArray<{ id: string, body: string }>
  now: Date
}

export interface WebhookStats {
  totalDeliveries: number
  failedDeliveries: number
  succeededDeliveries: number
  lastDeliveryAt: Date | null
  lastError: string | null
  parkedDeliveries: number
}

/** A call known to the service: from POST /persona-calls or from a call event carrying persona_id. */
export interface Call {
  workspaceId: string
  jobId: string
  personaId: string | null
  /** True when the call was created with `config.webhooks`: its call.* events go only to those. */
  hasInlineWebhooks: boolean
  createdAt: Date
}

/** Store.routingState: the routes version and the event's call (null without a job or when unknown). */
export interface RoutingState {
  routesVersion: number
  call: Call | null
}

export interface StoredEvent {
  id: string
  workspaceId: string
  type: string
  /** The envelope exactly as serialized once and sent (docs/wire-format.md). */
  body: string
  createdAt: Date
}

export interface NewDelivery {
  id: string
  webhookId: string
  /** Snapshot for the log; the attempt uses the webhook's URL at send time. */
  url: string
  /** 1 + max_retries of the webhook when the event was accepted. */
  maxAttempts: number
  /** When the first attempt is due (normally the event's acceptance time). */
  nextAttemptAt: Date
  /**
   * Per-call ordering (docs/delivery.md, src/store/order-lanes.ts): deliveries of one webhook with
   * the same key are sent one at a time in the order they were recorded. Each takes the next place
   * in its (webhook, key) queue, for good (a parked or recovered delivery comes back to it). While
   * another of the queue is pending, the store records this one *waiting* (pending, `nextAttemptAt`
   * null, never claimed); when the scheduled one settles (succeeded or failed), completeAttempts
   * makes the waiting one in the earliest place due at once. Null (the default): no ordering.
   */
  orderKey?: string | null
  /** `parked` for a disabled webhook. @defaultValue 'pending' */
  status?: 'pending' | 'parked'
  /** Held back by the webhook's open breaker: released when it closes. */
  held?: boolean
  /** Sent even while the breaker is open (a test send). */
  skipBreaker?: boolean
  /**
   * Recorded already leased, as if claimed by `owner` (the handoff to the accepting process's
   * engine, src/delivery/handoff.ts): no claim returns it before `expiresAt`, and it settles
   * with `token`. The store does not wake engines for work that is all leased.
   */
  lease?: { token: string, owner: string, expiresAt: Date }
}

export interface Delivery {
  id: string
  eventId: string
  eventType: string
  workspaceId: string
  webhookId: string
  /** True when the webhook is an inline (per-call) webhook. */
  inline: boolean
  url: string
  status: DeliveryStatus
  attemptCount: number
  maxAttempts: number
  nextAttemptAt: Date | null
  lastError: string | null
  lastStatusCode: number | null
  createdAt: Date
  updatedAt: Date
}

export interface Attempt {
  id: string
  deliveryId: string
  /** 1, 2, … as sent in X-Kejue-Attempt. */
  attempt: number
  startedAt: Date
  durationMs: number
  statusCode: number | null
  error: string | null
  /** The first bytes of the response body, as text. */
  responseExcerpt: string | null
}

export type NewAttempt = Omit<Attempt, 'id' | 'deliveryId'>

/** A delivery leased to one worker, with everything needed to send it. */
export interface ClaimedDelivery {
  deliveryId: string
  /** Fencing token: settle and renew succeed only while it is still the delivery's token. */
  leaseToken: string
  eventId: string
  eventType: string
  body: string
  /** The attempt about to be made: attemptCount + 1. */
  attempt: number
  maxAttempts: number
  /** Sent even while the webhook's breaker is open (a test send, a manual retry). */
  skipBreaker: boolean
  /** The webhook as it is now; null when it was deleted (settle as failed). */
  webhook: Webhook | null
}

export interface ClaimOptions {
  now: Date
  limit: number
  leaseMs: number
  /** Who claims, for logs and diagnostics. */
  owner: string
  /** Webhooks whose in-flight slots are full: their deliveries are left for later. */
  excludeWebhookIds?: readonly string[]
  /**
   * `kejue-webhooks listen` sessions (CliSession): unset, their webhooks' deliveries are left out
   * (only the process holding a session's connection can send them); set, ONLY the deliveries of
   * this hub's sessions are claimed.
   */
  cliHubId?: string
}

/** What happens to a delivery after an attempt. */
export type Settlement =
  | { status: 'succeeded' }
  | { status: 'failed' }
  | { status: 'pending', nextAttemptAt: Date }

export interface AttemptResult {
  deliveryId: string
  leaseToken: string
  attempt: NewAttempt
  settlement: Settlement
}

/** One settled attempt as the health rules see it (src/delivery/endpoint-health.ts). */
export interface SettledAttempt {
  statusCode: number | null
  error: string | null
  /** 2xx. */
  ok: boolean
  /** How the delivery ended with it; null when it stays pending. */
  final: 'succeeded' | 'failed' | null
  startedAt: Date
  deliveryCreatedAt: Date
}

/** What the health rules make of a webhook's settled attempts: null changes nothing. */
export interface HealthUpdate {
  health: WebhookHealth
  /** Disable the webhook now (its pending deliveries are parked). */
  disable: DisabledReason | null
  /** The breaker closed: deliveries it held back are due now. */
  releaseHeld: boolean
  /** The breaker (re)opened: deliveries it holds back wait until this probe time. */
  holdUntil: Date | null
}

/** Must be pure: a driver may call it more than once for a webhook (e.g. again once the row is locked). */
export type HealthRule = (webhook: Webhook, attempts: readonly SettledAttempt[], now: Date) => HealthUpdate | null

export interface HealthChange {
  /** The webhook after the change. */
  webhook: Webhook
  /** It was disabled by this change. */
  disabled: boolean
}


export interface RecoverInput {
  workspaceId: string
  webhookId: string
  since: Date
  until: Date | null
  dryRun: boolean
  /** Retries of the fresh set of attempts (the webhook's current schedule). */
  retries: number
  /** `parked` when the webhook is disabled. */
  status: 'pending' | 'parked'
  now: Date
}

export interface DeliveryFilter {
  workspaceId: string
  webhookId?: string
  eventId?: string
  status?: DeliveryStatus
  eventType?: string
  /** Deliveries of events whose `data.job_id` (`data.call.id` for call.analyzed) is this. */
  jobId?: string
  /** Deliveries of events whose `data.contact_id` (or `data.contact.id`) is this. */
  contactId?: string
  /** created_at ≥ since (inclusive). */
  since?: Date
  /** created_at < until (exclusive). */
  until?: Date
  /** Only deliveries to one of these webhooks (a persona-scoped portal token); empty = none. */
  webhookIds?: readonly string[]
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string
  limit: number
}

/** One attempt as the per-webhook charts need it (GET /webhooks/{id}/stats). */
export interface AttemptSample {
  startedAt: Date
  durationMs: number
  /** The response status, null when there was none (timeout, connection error, blocked). */
  statusCode: number | null
}

/** The dashboard's health strip for one workspace (or some of its webhooks). */
export interface WorkspaceQueueStats {
  pending: number
  /** Deliveries that ended failed since the given time. */
  failedSince: number
}

/**
 * A portal session (docs/api.md, "Portal sessions"): a short-lived dashboard link for one
 * workspace, optionally read-only and scoped to one persona. Only the token's sha256 is stored.
 */
export interface PortalSession {
  id: string
  workspaceId: string
  hash: string
  personaId: string | null
  readOnly: boolean
  createdAt: Date
  expiresAt: Date
  revokedAt: Date | null
}

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

export interface RecordEventInput {
  event: StoredEvent
  deliveries: NewDelivery[]
  /** The ids the event is found by in delivery search (events/event-keys.ts); absent: by neither. */
  keys?: EventKeys
  /** A call to remember (persona scope for later events of the same job). */
  call?: { jobId: string, personaId: string | null }
}

export interface RecordEventResult {
  /** False when an event with this id already existed in the workspace: nothing was written. */
  created: boolean
  eventId: string
  deliveries: number
}

/**
 * A `kejue-webhooks listen` session (docs/receiving.md, "Local development"). Its webhook is an
 * ordinary webhook whose url is `cli://<session id>`; deliveries to it are pushed down the CLI's
 * connection by the process (hub) holding it, which alone claims them.
 */
export interface CliSession {
  id: string
  workspaceId: string
  webhookId: string
  hubId: string
  createdAt: Date
  /** The hub refreshes it while the connection lives; a stale one belongs to a dead process. */
  heartbeatAt: Date
}

export interface QueueStats {
  pending: number
  /** Pending deliveries whose next attempt is due now or earlier. */
  due: number
  /** Age of the oldest due delivery in ms (0 when none). */
  oldestDueAgeMs: number
  /** Deliveries that ended failed since the given time. */
  failedSince: number
}

/** What completeAttempts did. */
export interface CompleteResult {
  /** Results whose lease token no longer matched: not recorded. */
  rejected: string[]
  /** Waiting ordered deliveries (NewDelivery.orderKey) made due by these settlements. */
  released: number
  /** Webhooks whose health changed, as they are now. */
  health: HealthChange[]
}

export interface Store {
  readonly driver: 'sqlite' | 'postgres'

  // — workspaces and keys —
  createWorkspace (workspace: Workspace): Promise<void>
  getWorkspace (id: string): Promise<Workspace | null>
  listWorkspaces (): Promise<Workspace[]>
  createApiKey (key: ApiKey): Promise<void>
  /** The key with this hash, when it exists and is not revoked. */
  findApiKeyByHash (hash: string): Promise<ApiKey | null>
  listApiKeys (workspaceId: string | null): Promise<ApiKey[]>
  revokeApiKey (id: string, at: Date): Promise<boolean>
  getSetting (key: string): Promise<string | null>
  setSetting (key: string, value: string): Promise<void>
  /**
   * Sets `key` to `value` only while it holds `expected` (null: while it is absent), in one
   * statement: of several processes that try at once, exactly one succeeds. True when it did.
   */
  replaceSetting (key: string, expected: string | null, value: string): Promise<boolean>

  // — webhooks —
  createWebhook (webhook: NewWebhook, now: Date): Promise<Webhook>
  getWebhook (workspaceId: string, id: string): Promise<Webhook | null>
  /** Workspace subscriptions only (no inline webhooks), oldest first. */
  listWebhooks (workspaceId: string): Promise<Webhook[]>
  /**
   * Routing candidates: the workspace's subscriptions whose `events` hold one of `filters` (exact
   * strings, so the caller decides whether "*" is one of them) and that are global or scoped to
   * `personaId` (global only when it is null), oldest first. Disabled webhooks are included;
   * inline and deleted ones never. Answered from an index (docs/storage.md, "Routing index"), so
   * its cost follows the webhooks returned, not the workspace's size. It only narrows: the
   * routing rule itself is applied by the caller (src/delivery/routing.ts).
   */
  routeWebhooks (workspaceId: string, filters: readonly string[], personaId: string | null): Promise<Webhook[]>
  /**
   * What routing an event reads first (src/delivery/accept-event.ts), as one read (SQLite answers
   * with one statement, PostgreSQL with two batched per turn): the workspace's routes version and,
   * when `jobId` is given, the call (null when unknown or another workspace's).
   *
   * The routes version changes whenever anything routing reads of the workspace's subscriptions
   * changes: one created or deleted, or any of its columns but its last attempt, last error and
   * health counters (migration 0011; breaker state and `enabled` do change it). Inline webhooks
   * do not. It may also change for other reasons (PostgreSQL keeps one for all workspaces), and
   * it never comes back to a value it had: while it holds still, an earlier routeWebhooks answer
   * for the workspace is still right (src/delivery/route-cache.ts).
   */
  routingState (workspaceId: string, jobId: string | null): Promise<RoutingState>
  updateWebhook (workspaceId: string, id: string, patch: WebhookPatch, now: Date): Promise<Webhook | null>
  /** Deletes the webhook; its pending deliveries end failed with `reason` (default "webhook deleted"). */
  deleteWebhook (workspaceId: string, id: string, now: Date, reason?: string): Promise<boolean>
  webhookStats (workspaceId: string, ids: readonly string[]): Promise<Map<string, WebhookStats>>

  // — calls and inline webhooks —
  /** Registers a call and its inline webhooks in one transaction. */
  createCall (call: Call, inlineWebhooks: NewWebhook[]): Promise<void>
  listInlineWebhooks (workspaceId: string, jobId: string): Promise<Webhook[]>

  // — `listen` sessions (CliSession); the rules (create and end order, staleness) are in src/delivery/cli-hub.ts —
  insertCliSession (session: CliSession): Promise<void>
  getCliSession (workspaceId: string, id: string): Promise<CliSession | null>
  deleteCliSession (id: string): Promise<void>
  /** Sets heartbeatAt = now for every session of the hub. */
  heartbeatCliSessions (hubId: string, now: Date): Promise<void>
  /** Sessions whose heartbeat is older than `before`, in any workspace. */
  listStaleCliSessions (before: Date): Promise<CliSession[]>

  // — events and deliveries —
  /** The event and all its deliveries in one transaction; idempotent by (workspace, event id). */
  recordEvent (input: RecordEventInput): Promise<RecordEventResult>
  getEvent (workspaceId: string, eventId: string): Promise<StoredEvent | null>
  getDelivery (workspaceId: string, id: string): Promise<Delivery | null>
  listDeliveries (filter: DeliveryFilter): Promise<Page<Delivery>>
  listAttempts (deliveryId: string): Promise<Attempt[]>
  /** The attempts of many deliveries in one query (a page of the delivery log), by delivery id. */
  attemptsOf (deliveryIds: readonly string[]): Promise<Map<string, Attempt[]>>
  /**
   * Makes a settled (or pending) delivery due now for one more attempt. Returns the delivery, or
   * null when unknown in this workspace.
   */
  retryDelivery (workspaceId: string, id: string, now: Date): Promise<Delivery | null>

  // — retention and erasure (docs/storage.md "Retention", docs/privacy.md) —
  /**
   * Deletes up to `limit` settled (succeeded or failed) deliveries last updated before `before`,
   * oldest first, with their attempts, and those deliveries' events that have no delivery left.
   * One short transaction; pending deliveries are never touched.
   */
  pruneDeliveries (before: Date, limit: number): Promise<PruneResult>
  /**
   * Looks at up to `limit` events created before `before` and after the key `after` (in
   * (createdAt, workspaceId, id) order), and deletes those without any delivery. Returns how many
   * it deleted and the key of the last one it looked at (null when none was left), to go on from.
   */
  pruneEvents (before: Date, after: EventKey | null, limit: number): Promise<{ deleted: number, scanned: number, last: EventKey | null }>
  /**
   * Ends up to `limit` parked deliveries created before `before` as failed with DISCARDED_ERROR
   * (updated_at = `now`, so a later prune takes them once that is past the window). Like enable's
   * discard, the webhook's health counters are not touched. Returns how many it ended.
   */
  discardParked (before: Date, limit: number, now: Date): Promise<number>
  /**
   * Events of the workspace whose data.contact_id, data.contact.id (when `contactId` is given),
   * data.job_id or data.call.id (when `jobId` is given) equal the value, oldest first.
   */
  findEventsToErase (workspaceId: string, match: { contactId: string | null, jobId: string | null }): Promise<StoredEvent[]>
  /**
   * In one transaction: replaces the events' bodies, clears the response excerpts of their
   * attempts, ends their pending deliveries failed with ERASED_ERROR (leases cleared, so an
   * attempt in flight cannot settle them), and stores the erasure record.
   */
  eraseEvents (input: EraseEventsInput): Promise<void>
  getErasure (workspaceId: string, id: string): Promise<Erasure | null>

  // — the secret codec's maintenance (src/store/secrets): stored forms, never opened —
  /** Webhooks holding any secret field, by id after `afterId`, at most `limit`. */
  listStoredSecrets (afterId: string | null, limit: number): Promise<StoredSecretFields[]>
  /** Writes `after` where the row still holds `before` (so a concurrent rotation wins); returns how many rows changed. */
  rewriteStoredSecrets (items: ReadonlyArray<{ before: StoredSecretFields, after: StoredSecretFields }>): Promise<number>

  // — the queue —
  /**
   * Leases up to `limit` due deliveries (pending, next attempt ≤ now, no live lease), each with a
   * fresh lease token. Expired leases count as free, which is how a crashed worker's deliveries
   * come back.
   */
  claimDue (options: ClaimOptions): Promise<ClaimedDelivery[]>
  /** Extends live leases; returns the ids whose token still matched. */
  renewLeases (items: ReadonlyArray<{ deliveryId: string, leaseToken: string }>, leaseMs: number, now: Date): Promise<string[]>
  /** Gives leases back without an attempt (shutdown): due again at once. */
  releaseLeases (items: ReadonlyArray<{ deliveryId: string, leaseToken: string }>): Promise<void>
  /**
   * Records attempts and settles their deliveries, many in one transaction (group commit).
   * A result whose lease token no longer matches is rejected whole: its id is in `rejected`.
   * With `health`, the same transaction applies it to each webhook's settled attempts (the
   * webhook row locked, so processes settling at once do not lose counts) and carries out its
   * update: new health, disabling (parking the free pending deliveries), releasing held ones.
   */
  completeAttempts (results: readonly AttemptResult[], now: Date, health?: HealthRule): Promise<CompleteResult>
  /**
   * Rate limits (docs/delivery.md, "Rate limits"): reserves `count` start times for the webhook,
   * `intervalMs` apart, after every slot reserved before (by any process sharing the store) and
   * not before `now`. Returns the first; the others follow at `intervalMs` steps.
   */
  reserveSendSlots (webhookId: string, count: number, intervalMs: number, now: Date): Promise<Date>
  // — endpoint health (docs/delivery.md, "The life of an endpoint"); the rules are in src/delivery/endpoint-health.ts —
  /**
   * Grants the one probe of an open breaker: true when the breaker was open (or half open) with a
   * probe time ≤ now; it is then half open until `retryAt` (another probe may go then if this
   * one never reports back).
   */
  takeBreakerProbe (webhookId: string, now: Date, retryAt: Date): Promise<boolean>
  /**
   * Holds back first attempts while the breaker is open: the given leased deliveries and every
   * free pending delivery of the webhook that has had no attempt, is not `skipBreaker` and is due
   * before `until` wait until `until` (marked held). Returns how many were held.
   */
  holdFirstAttempts (webhookId: string, leased: ReadonlyArray<{ deliveryId: string, leaseToken: string }>, until: Date, now: Date): Promise<number>
  /** Parks leased deliveries (their webhook is disabled), lease token checked. */
  parkDeliveries (items: ReadonlyArray<{ deliveryId: string, leaseToken: string }>, now: Date): Promise<void>
  /** Disables the webhook and parks its free pending deliveries (attempts in flight finish). */
  disableWebhook (workspaceId: string, id: string, reason: DisabledReason, now: Date): Promise<Webhook | null>
  /**
   * Enables it with fresh health; its parked deliveries become pending and due now
   * (`replayParked`) or end failed with "discarded". Ordered ones (NewDelivery.orderKey) come back
   * waiting in their places: of each queue only the earliest is made due, and none while another
   * of the queue is scheduled (still in flight or retrying).
   */
  enableWebhook (workspaceId: string, id: string, replayParked: boolean, now: Date): Promise<Webhook | null>
  /**
   * Failed deliveries of a webhook created in [since, until), except "erased" ones: counted, and
   * requeued unless a dry run. Requeued as `pending`, ordered ones wait in their places, as with
   * enableWebhook's replay.
   */
  recoverDeliveries (input: RecoverInput): Promise<{ matched: number, requeued: number }>
  /**
   * The earliest `nextAttemptAt` among pending deliveries, or null when there are none. A
   * delivery under a live lease counts at its lease expiry instead (it cannot be claimed before
   * then), so an engine sleeping until nextDueAt does not spin on its own in-flight work.
   * Like claimDue without `cliHubId`, it leaves out `listen` sessions' deliveries.
   */
  nextDueAt (): Promise<Date | null>
  queueStats (now: Date, failedSince: Date): Promise<QueueStats>
  /** Pending and recently failed deliveries of one workspace (optionally only these webhooks). */
  workspaceQueueStats (workspaceId: string, failedSince: Date, webhookIds?: readonly string[]): Promise<WorkspaceQueueStats>
  /**
   * Attempts to one webhook that started in [from, to), oldest first: an index range on
   * (webhook, start time), never the webhook's whole history.
   */
  attemptSamples (webhookId: string, from: Date, to: Date): Promise<AttemptSample[]>

  // — portal sessions —
  createPortalSession (session: PortalSession): Promise<void>
  /** The session with this token hash, revoked or expired ones included (the caller decides). */
  findPortalSessionByHash (hash: string): Promise<PortalSession | null>
  /** Sets revokedAt; false when unknown in this workspace. */
  revokePortalSession (workspaceId: string, id: string, at: Date): Promise<boolean>

  /**
   * Calls `listener` when new work may be due (an event was recorded or a delivery retried), in
   * this process or — for drivers that can — in any process sharing the store.
   * Returns a function that stops listening.
   */
  onWork (listener: () => void): () => void

  /** True when the store answers a trivial query (for /healthz). */
  ping (): Promise<boolean>
  close (): Promise<void>
}

/**
 * Whether a recorded event gives engines new work to claim: it was new and has a delivery not
 * recorded leased (a handed-off one is its engine's already). Both drivers wake on this.
 */
export function claimableWork (input: RecordEventInput, result: RecordEventResult): boolean {
  return result.created && result.deliveries > 0 && input.deliveries.some((d) => d.lease === undefined)
}

/** How long an attempt took, as every driver stores it: whole milliseconds, never negative. */
export function storedDurationMs (durationMs: number): number {
  return Math.max(0, Math.round(durationMs))
}

/** Attempts in (delivery, attempt) order, grouped by delivery; every asked id gets a list. */
export function groupAttempts (deliveryIds: readonly string[], attempts: readonly Attempt[]): Map<string, Attempt[]> {
  const out = new Map<string, Attempt[]>(deliveryIds.map((id) => [id, []]))
  for (const attempt of attempts) out.get(attempt.deliveryId)?.push(attempt)
  return out
}

/**
 * Adds a settled attempt, as the health rules see it, to its webhook's list (both drivers'
 * completeAttempts; `deliveryCreatedAt` is read from the settled row).
 */
export function addSettled (byWebhook: Map<string, SettledAttempt[]>, webhookId: string, result: AttemptResult, deliveryCreatedAt: Date): void {
  const { attempt, settlement } = result
  const settled: SettledAttempt = {
    statusCode: attempt.statusCode,
    error: attempt.error,
    ok: settlement.status === 'succeeded',
    final: settlement.status === 'pending' ? null : settlement.status,
    startedAt: attempt.startedAt,
    deliveryCreatedAt,
  }
  const list = byWebhook.get(webhookId)
  if (list === undefined) byWebhook.set(webhookId, [settled])
  else list.push(settled)
}
