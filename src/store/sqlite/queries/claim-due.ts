import { randomUUID } from 'node:crypto'
import type { Database } from 'better-sqlite3'
import type { ClaimedDelivery, ClaimOptions, Webhook } from '../../store.js'
import { toWebhook, WEBHOOK_COLUMNS } from '../rows.js'
import type { WebhookRow } from '../rows.js'
import { withRelaxedSync } from '../relaxed-sync.js'

interface DueRow {
  id: string
  event_id: string
  event_type: string
  webhook_id: string
  attempt_count: number
  max_attempts: number
  skip_breaker: number
  body: string
}

interface LaneRow {
  id: string
  next_attempt_at: number
}

const DUE_COLUMNS = 'd.id, d.event_id, d.event_type, d.webhook_id, d.attempt_count, d.max_attempts, d.skip_breaker, e.body'
const CLAIMABLE = `d.status = 'pending' AND d.next_attempt_at <= @now
      AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= @now)`

/** The statements, exported so that tests can check their plans (EXPLAIN QUERY PLAN). */
export const CLAIM_SQL = {
  due: `
    SELECT ${DUE_COLUMNS}
    FROM deliveries d INDEXED BY deliveries_due
    JOIN events e ON e.workspace_id = d.workspace_id AND e.id = d.event_id
    WHERE ${CLAIMABLE}
    ORDER BY d.next_attempt_at, d.id
    LIMIT @limit`,
  // The loose index scan: the next webhook id that has pending deliveries.
  nextLane: `
    SELECT d.webhook_id FROM deliveries d INDEXED BY deliveries_lane
    WHERE d.status = 'pending' AND d.webhook_id > @after
    ORDER BY d.webhook_id LIMIT 1`,
  laneDue: `
    SELECT d.id, d.next_attempt_at FROM deliveries d INDEXED BY deliveries_lane
    WHERE d.webhook_id = @webhook AND ${CLAIMABLE}
    ORDER BY d.next_attempt_at, d.id
    LIMIT @limit`,
  // \`listen --forward-to\` sessions: their webhooks, and which process (hub) holds each.
  cliLanes: 'SELECT webhook_id, hub_id FROM cli_sessions',
  one: `
    SELECT ${DUE_COLUMNS}
    FROM deliveries d
    JOIN events e ON e.workspace_id = d.workspace_id AND e.id = d.event_id
    WHERE d.id = ?`,
} as const

/**
 * Leases a batch of due deliveries in ONE write transaction. `BEGIN IMMEDIATE` takes SQLite's
 * single write lock before the SELECT, so two claimers (threads or processes) never read the same
 * free rows: the second waits (busy_timeout) and then sees the first one's leases.
 *
 * Which rows: the `limit` earliest claimable ones in (next_attempt_at, id) order, leaving out the
 * webhooks in `excludeWebhookIds`. Two plans give that same answer:
 * - nothing excluded: walk deliveries_due (pending rows in due order) and stop after `limit`; rows
 *   with a live lease are skipped, and there are at most as many of those as attempts in flight.
 * - some webhooks excluded (they already hold all they may): a filter on that walk would step over
 *   every due row of theirs, and a dead endpoint's backlog can be millions. Instead step from
 *   webhook to webhook over deliveries_lane (webhook_id, next_attempt_at, id), one index seek per
 *   webhook with pending rows, never entering an excluded webhook's lane; read each other lane's
 *   earliest claimable rows and merge them in due order. The cost grows with the number of
 *   webhooks that have pending rows and with `limit`, not with anyone's backlog.
 */
export function prepareClaimDue (db: Database) {
  const selectDue = db.prepare<{ now: number, limit: number }, DueRow>(CLAIM_SQL.due)
  const nextLane = db.prepare<{ after: string }, { webhook_id: string }>(CLAIM_SQL.nextLane)
  const laneDue = db.prepare<{ webhook: string, now: number, limit: number }, LaneRow>(CLAIM_SQL.laneDue)
  const selectOne = db.prepare<[string], DueRow>(CLAIM_SQL.one)

  const selectCliLanes = db.prepare<[], { webhook_id: string, hub_id: string }>(CLAIM_SQL.cliLanes)

  /** Every lane (webhook with pending rows) but the excluded ones, one index seek each. */
  function * lanesExcept (excluded: ReadonlySet<string>): Generator<string> {
    for (let lane = nextLane.get({ after: '' }); lane !== undefined; lane = nextLane.get({ after: lane.webhook_id })) {
      if (!excluded.has(lane.webhook_id)) yield lane.webhook_id
    }
  }

  /** The `limit` earliest claimable rows of the given lanes, in due order, without entering any other lane. */
  function selectDueByLane (now: number, limit: number, lanes: Iterable<string>): DueRow[] {
    // First pass: the earliest claimable row of every lane we may take from.
    const heads: Array<{ webhook: string, head: LaneRow }> = []
    for (const webhook of lanes) {
      const head = laneDue.get({ webhook, now, limit: 1 })
      if (head !== undefined) heads.push({ webhook, head })
    }
    // The batch can only draw on the `limit` lanes with the earliest heads: those heads alone
    // are `limit` rows due no later than any row of a lane further back.
    heads.sort((a, b) => compareDue(a.head, b.head))
    const candidates: LaneRow[] = []
    for (const { webhook } of heads.slice(0, limit)) candidates.push(...laneDue.all({ webhook, now, limit }))
    candidates.sort(compareDue)
    const rows: DueRow[] = []
    for (const candidate of candidates.slice(0, limit)) {
      const row = selectOne.get(candidate.id)
      if (row !== undefined) rows.push(row)
    }
    return rows
  }

  const lease = db.prepare('UPDATE deliveries SET lease_token = ?, lease_owner = ?, lease_expires_at = ? WHERE id = ?')
  const selectWebhook = db.prepare<[string], WebhookRow>(
    `SELECT ${WEBHOOK_COLUMNS.join(', ')} FROM webhooks WHERE id = ? AND deleted_at IS NULL`)

  const claim = db.transaction((options: ClaimOptions): ClaimedDelivery[] => {
    const now = options.now.getTime()
    const expiresAt = now + options.leaseMs
    const cli = selectCliLanes.all()
    const hub = options.cliHubId
    // A CLI session hub claims only its own sessions' lanes; the engine never claims those.
    const excluded = new Set([...(options.excludeWebhookIds ?? []), ...cli.map((c) => c.webhook_id)])
    const rows = hub !== undefined
      ? selectDueByLane(now, options.limit, cli.filter((c) => c.hub_id === hub).map((c) => c.webhook_id))
      : excluded.size === 0
        ? selectDue.all({ now, limit: options.limit })
        : selectDueByLane(now, options.limit, lanesExcept(excluded))
    // A batch usually goes to few webhooks: read each once.
    const webhooks = new Map<string, Webhook | null>()
    const claimed: ClaimedDelivery[] = []
    for (const row of rows) {
      const leaseToken = randomUUID()
      lease.run(leaseToken, options.owner, expiresAt, row.id)
      let webhook = webhooks.get(row.webhook_id)
      if (webhook === undefined) {
        const found = selectWebhook.get(row.webhook_id)
        webhook = found === undefined ? null : toWebhook(found)
        webhooks.set(row.webhook_id, webhook)
      }
      claimed.push({
        deliveryId: row.id,
        leaseToken,
        eventId: row.event_id,
        eventType: row.event_type,
        body: row.body,
        attempt: row.attempt_count + 1,
        maxAttempts: row.max_attempts,
        skipBreaker: row.skip_breaker === 1,
        webhook,
      })
    }
    return claimed
  })

  return (options: ClaimOptions): ClaimedDelivery[] => {
    if (options.limit <= 0) return []
    return withRelaxedSync(db, () => claim.immediate(options))
  }
}

function compareDue (a: LaneRow, b: LaneRow): number {
  return a.next_attempt_at - b.next_attempt_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
