/**
 * `kejue-webhooks listen` sessions on the service side (docs/receiving.md, "Local development").
 *
 * A session is an ordinary webhook whose url is `cli://<session id>`, plus a `cli_sessions` row
 * naming the process (hub) that holds the CLI's streaming connection. Nothing dials that url:
 *
 *   event accepted → delivery pending for the session's webhook
 *     → claimed ONLY by the hub holding the connection (claimDue with cliHubId; every other
 *       claimer leaves it out) → signed as usual → pushed down the connection
 *     → the CLI POSTs it to the local app and reports the status (POST …/results, which may
 *       reach any process) → recorded like an HTTP attempt's response (2xx succeeded, 5xx
 *       retried on the webhook's schedule, 4xx failed), fenced by the lease token
 *     → no report within the timeout: the hub records a timeout, retried the same way.
 *
 * The session ends when its connection closes, on DELETE, or, for a process that died, when its
 * heartbeat goes stale (any process sweeps): the webhook is deleted and its pending deliveries
 * end `failed` with "cli session ended".
 */
import { DEFAULTS } from '../config/defaults.js'
import { newId, newToken } from '../util/ids.js'
import { coerceError } from '../errors.js'
import type { ClaimedDelivery, CliSession, Delivery, Store, Webhook } from '../store/store.js'
import { USER_AGENT } from '../util/version.js'
import { classifyStatus } from './http-client.js'
import { attemptResult } from './attempt-result.js'
import { networkFailure } from './outcome.js'
import type { AttemptOutcome } from './outcome.js'
import { prepareRequest, signedHeaders } from './prepare.js'

export const CLI_URL_PREFIX = 'cli://'
export const CLI_SESSION_ENDED = 'cli session ended'

const { leaseMs: LEASE_MS, reportGraceMs: REPORT_GRACE_MS, pollMs: POLL_MS, claimBatch: CLAIM_BATCH } = DEFAULTS.cliHub

/** True for a `listen` session's webhook: never listed by the API, never dialled. */
export function isCliWebhook (webhook: Pick<Webhook, 'url'>): boolean {
  return webhook.url.startsWith(CLI_URL_PREFIX)
}

/** One delivery attempt as pushed to the CLI. */
export interface CliPush {
  delivery_id: string
  event_id: string
  event: string
  attempt: number
  /** Echoed in the report: the attempt's fencing token. */
  lease_token: string
  timeout_ms: number
  /** Exactly the headers an HTTP delivery carries, signature included. */
  headers: Record<string, string>
  /** The envelope, byte for byte as signed. */
  body: string
}

/** What the CLI reports for one pushed attempt. */
export interface CliReport {
  delivery_id: string
  lease_token: string
  attempt: number
  /** The local app's status; null when it could not be reached. */
  status_code: number | null
  duration_ms: number
  error?: string | null
  response_excerpt?: string | null
  /** The local app's Retry-After header, as sent. */
  retry_after?: string | null
}

export interface CliStream {
  push (delivery: CliPush): void
  end (): void
}

export interface OpenedSession {
  session: CliSession
  webhook: Webhook
  /** The session's signing secret; only the opening response carries it. */
  secret: string
}

export interface CliHub {
  readonly id: string
  /** Registers a session held by this process and starts pushing its deliveries to `stream`. */
  open (workspaceId: string, events: string[], stream: CliStream): Promise<OpenedSession>
  /** The connection closed: ends the session. */
  close (sessionId: string): Promise<void>
  /**
   * Records a report from the CLI (it may reach any process: see recordCliReport); a retry it
   * schedules for a session held here is pushed when due, not at the next poll.
   */
  report (workspaceId: string, sessionId: string, report: CliReport, now: Date): Promise<ReportResult>
  /** Starts the heartbeat and the sweep of dead processes' sessions. */
  start (): void
  /** Ends every session held here. */
  stop (): Promise<void>
}

export interface CliHubDeps {
  store: Store
  /** How often sessions are marked alive and dead processes' sessions swept. @defaultValue 10000 */
  heartbeatMs?: number
  /** A session not marked alive for this long belongs to a dead process. @defaultValue 60000 */
  staleMs?: number
  logger?: { warn (obj: object, msg: string): void, error (obj: object, msg: string): void }
  now?: () => number
}

/** Ends a session (from any process): the webhook goes, its pending deliveries fail. */
export async function endCliSession (store: Store, session: CliSession, now: Date): Promise<void> {
  // Webhook first: while the session row exists no other claimer touches its deliveries.
  await store.deleteWebhook(session.workspaceId, session.webhookId, now, CLI_SESSION_ENDED)
  await store.deleteCliSession(session.id)
}

/** The outcome a report stands for, as if the local app had answered the service directly. */
function reportOutcome (report: CliReport): AttemptOutcome {
  const excerpt = report.response_excerpt ?? ''
  if (report.status_code !== null) return classifyStatus(report.status_code, report.duration_ms, excerpt, report.retry_after ?? undefined)
  return networkFailure(report.error ?? 'the local app could not be reached', report.duration_ms)
}

/**
 * Records one attempt of a session's delivery under its lease: null when the lease is gone, else
 * when its retry is due (ms; null when there is none).
 */
async function recordOutcome (
  store: Store,
  delivery: Pick<Delivery, 'id' | 'maxAttempts'>,
  webhook: Pick<Webhook, 'backoffMs'>,
  attempt: { number: number, leaseToken: string, startedAt: number },
  outcome: AttemptOutcome,
  now: Date,
): Promise<{ retryAt: number | null } | null> {
  // Jittered like the engine's retries (Math.random: the hub has no injected source).
  const result = attemptResult({
    deliveryId: delivery.id,
    leaseToken: attempt.leaseToken,
    attempt: attempt.number,
    maxAttempts: delivery.maxAttempts,
    backoffMs: webhook.backoffMs,
    startedAt: attempt.startedAt,
  }, outcome, Math.random)
  const { rejected } = await store.completeAttempts([result], now)
  if (rejected.length > 0) return null
  return { retryAt: result.settlement.status === 'pending' ? result.settlement.nextAttemptAt.getTime() : null }
}

export type ReportResult = 'recorded' | 'unknown-session' | 'unknown-delivery' | 'stale'

/**
 * A report from the CLI, received by any process: recorded as the attempt's response. The hub
 * holding the session finds a retry it schedules by polling (DEFAULTS.cliHub.pollMs), or when due
 * if the report reached that hub's own process (CliHub.report).
 */
export async function recordCliReport (store: Store, workspaceId: string, sessionId: string, report: CliReport, now: Date): Promise<ReportResult> {
  return (await recordReport(store, workspaceId, sessionId, report, now)).result
}

async function recordReport (store: Store, workspaceId: string, sessionId: string, report: CliReport, now: Date): Promise<{ result: ReportResult, retryAt: number | null }> {
  const none = (result: ReportResult): { result: ReportResult, retryAt: null } => ({ result, retryAt: null })
  const session = await store.getCliSession(workspaceId, sessionId)
  if (session === null) return none('unknown-session')
  const delivery = await store.getDelivery(workspaceId, report.delivery_id)
  if (delivery === null || delivery.webhookId !== session.webhookId) return none('unknown-delivery')
  if (delivery.status !== 'pending' || delivery.attemptCount + 1 !== report.attempt) return none('stale')
  const webhook = await store.getWebhook(workspaceId, session.webhookId)
  if (webhook === null) return none('stale')
  const startedAt = now.getTime() - report.duration_ms
  const recorded = await recordOutcome(store, delivery, webhook,
    { number: report.attempt, leaseToken: report.lease_token, startedAt }, reportOutcome(report), now)
  return recorded === null ? none('stale') : { result: 'recorded', retryAt: recorded.retryAt }
}

interface LocalSession {
  session: CliSession
  stream: CliStream
}

export function createCliHub (deps: CliHubDeps): CliHub {
  const { store } = deps
  const now = deps.now ?? Date.now
  // Names this process in cli_sessions; random, because pids repeat across hosts.
  const id = newToken('hub', 12)
  const sessions = new Map<string, LocalSession>()
  /** Pushed and awaiting a report: delivery id → the timer that records a timeout. */
  const awaiting = new Map<string, NodeJS.Timeout>()
  let pollTimer: NodeJS.Timeout | null = null
  let beatTimer: NodeJS.Timeout | null = null
  let unsubscribe: (() => void) | null = null
  let claiming = false
  let claimAgain = false

  const logError = (err: unknown, msg: string): void => deps.logger?.error({ err: coerceError(err) }, msg)

  function sessionOf (webhook: Webhook | null): LocalSession | undefined {
    if (webhook === null || !isCliWebhook(webhook)) return undefined
    return sessions.get(webhook.url.slice(CLI_URL_PREFIX.length))
  }

  async function claim (): Promise<void> {
    if (claiming) {
      claimAgain = true
      return
    }
    claiming = true
    try {
      do {
        claimAgain = false
        if (sessions.size === 0) break
        const claimed = await store.claimDue({ now: new Date(now()), limit: CLAIM_BATCH, leaseMs: LEASE_MS, owner: id, cliHubId: id })
        for (const delivery of claimed) push(delivery)
        if (claimed.length === CLAIM_BATCH) claimAgain = true
      } while (claimAgain)
    } catch (err) {
      logError(err, 'claiming cli session deliveries failed')
    } finally {
      claiming = false
    }
  }

  /** Claims when a retry of one of this hub's sessions is due, instead of at the next poll. */
  function claimAt (at: number | null): void {
    if (at === null || sessions.size === 0) return
    const timer = setTimeout(() => { void claim() }, Math.max(0, at - now()) + 1)
    timer.unref()
  }

  function push (claim: ClaimedDelivery): void {
    const local = sessionOf(claim.webhook)
    // Not ours any more (the session is ending): its deliveries are failed by endCliSession.
    if (local === undefined || claim.webhook === null) return
    const webhook = claim.webhook
    const startedAt = now()
    const request = prepareRequest(claim, webhook, startedAt)
    local.stream.push({
      delivery_id: claim.deliveryId,
      event_id: claim.eventId,
      event: claim.eventType,
      attempt: claim.attempt,
      lease_token: claim.leaseToken,
      timeout_ms: request.timeoutMs,
      headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, ...signedHeaders(request) },
      body: request.body,
    })
    const timer = setTimeout(() => {
      awaiting.delete(claim.deliveryId)
      const outcome: AttemptOutcome = { kind: 'failed', reason: 'timeout', statusCode: null, durationMs: request.timeoutMs, error: `no report from kejue-webhooks listen within ${request.timeoutMs} ms`, responseExcerpt: null }
      // A report that arrived (at any process) moved the lease on: this is then rejected.
      recordOutcome(store, { id: claim.deliveryId, maxAttempts: claim.maxAttempts }, webhook,
        { number: claim.attempt, leaseToken: claim.leaseToken, startedAt }, outcome, new Date(now()))
        .then((recorded) => { claimAt(recorded?.retryAt ?? null) }, (err: unknown) => logError(err, 'recording a cli timeout failed'))
    }, request.timeoutMs + REPORT_GRACE_MS)
    timer.unref()
    awaiting.set(claim.deliveryId, timer)
  }

  function startPolling (): void {
    if (pollTimer !== null) return
    pollTimer = setInterval(() => { void claim() }, POLL_MS)
    pollTimer.unref()
    unsubscribe = store.onWork(() => { void claim() })
  }

  function stopPollingIfIdle (): void {
    if (sessions.size > 0) return
    if (pollTimer !== null) clearInterval(pollTimer)
    pollTimer = null
    unsubscribe?.()
    unsubscribe = null
  }

  let beatFailures = 0
  async function beat (): Promise<void> {
    const at = new Date(now())
    try {
      if (sessions.size > 0) await store.heartbeatCliSessions(id, at)
      for (const stale of await store.listStaleCliSessions(new Date(at.getTime() - (deps.staleMs ?? DEFAULTS.cliHub.staleMs)))) {
        if (stale.hubId === id) continue
        deps.logger?.warn({ sessionId: stale.id, hubId: stale.hubId }, 'ending a cli session whose process stopped')
        await endCliSession(store, stale, at)
      }
      if (beatFailures > 0) deps.logger?.warn({ failures: beatFailures }, 'cli sessions: the store answers again')
      beatFailures = 0
    } catch (err) {
      // Every 10 s while the store is away: said once, as the engine does (docs/storage.md).
      if (beatFailures++ === 0) logError(err, 'cli sessions: keeping them alive failed; retrying until the store answers')
    }
  }

  async function close (sessionId: string): Promise<void> {
    const local = sessions.get(sessionId)
    if (local === undefined) return
    sessions.delete(sessionId)
    stopPollingIfIdle()
    local.stream.end()
    await endCliSession(store, local.session, new Date(now()))
  }

  return {
    id,

    async report (workspaceId, sessionId, report, at) {
      const { result, retryAt } = await recordReport(store, workspaceId, sessionId, report, at)
      if (sessions.has(sessionId)) claimAt(retryAt)
      return result
    },

    async open (workspaceId, events, stream) {
      const at = new Date(now())
      const sessionId = newId('cls', at.getTime())
      const secret = newToken('whsec')
      const session: CliSession = { id: sessionId, workspaceId, webhookId: newId('wh', at.getTime()), hubId: id, createdAt: at, heartbeatAt: at }
      // The session row first: from then on no other claimer takes the webhook's deliveries.
      await store.insertCliSession(session)
      let webhook: Webhook
      try {
        webhook = await store.createWebhook({
          id: session.webhookId,
          workspaceId,
          url: `${CLI_URL_PREFIX}${sessionId}`,
          events,
          name: 'kejue-webhooks listen',
          signingMethod: 'hmac_sha256',
          secret,
          scopeType: 'global',
          personaId: null,
          enabled: true,
          jobId: null,
          timeoutMs: DEFAULTS.delivery.timeoutMs,
          maxRetries: DEFAULTS.delivery.maxRetries,
          backoffMs: DEFAULTS.delivery.backoffMs,
        }, at)
      } catch (err) {
        await store.deleteCliSession(sessionId).catch(() => undefined)
        throw err
      }
      sessions.set(sessionId, { session, stream })
      startPolling()
      return { session, webhook, secret }
    },

    close,

    start () {
      if (beatTimer !== null) return
      beatTimer = setInterval(() => { void beat() }, deps.heartbeatMs ?? DEFAULTS.cliHub.heartbeatMs)
      beatTimer.unref()
    },

    async stop () {
      if (beatTimer !== null) clearInterval(beatTimer)
      beatTimer = null
      for (const timer of awaiting.values()) clearTimeout(timer)
      awaiting.clear()
      for (const sessionId of [...sessions.keys()]) {
        await close(sessionId).catch((err: unknown) => logError(err, 'ending a cli session failed'))
      }
    },
  }
}
