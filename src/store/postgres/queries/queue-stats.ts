/** Read-only views of the queue, for the engine's sleep and for /metrics. */
import type pg from 'pg'
import type { AttemptSample, QueueStats, WorkspaceQueueStats } from '../../store.js'

/**
 * The earliest time a pending delivery could be claimed: its next attempt, or the end of its
 * lease when one is held (a leased delivery is not claimable before it runs out, so an engine
 * sleeping until this time does not spin on deliveries already in flight).
 */
export async function nextDueAt (db: pg.Pool): Promise<Date | null> {
  // Never an aggregate over every pending row (a dead endpoint's backlog can be millions): walk
  // deliveries_due from its head, page by page, to the first row without a lease. Leased rows can
  // only come before it (no more than the attempts in flight); a row after it is due no earlier.
  // ORDER BY … LIMIT keeps the plan on the index whatever the planner thinks the range holds.
  let earliest = Infinity
  let after: { at: number, id: string } | null = null
  for (;;) {
    const page: pg.QueryResult<{ id: string, at: number, lease: number | null }> = after === null
      ? await db.query(`SELECT id, next_attempt_at AS at, lease_expires_at AS lease FROM deliveries
          WHERE status = 'pending' AND ${NOT_CLI} ORDER BY next_attempt_at, id LIMIT ${NEXT_DUE_PAGE}`)
      : await db.query(`SELECT id, next_attempt_at AS at, lease_expires_at AS lease FROM deliveries
          WHERE status = 'pending' AND ${NOT_CLI} AND (next_attempt_at, id) > ($1, $2) ORDER BY next_attempt_at, id LIMIT ${NEXT_DUE_PAGE}`,
        [after.at, after.id])
    for (const row of page.rows) {
      if (row.at >= earliest) return new Date(earliest)
      if (row.lease === null) return new Date(row.at)
      earliest = Math.min(earliest, Math.max(row.at, row.lease))
    }
    const last = page.rows.at(-1)
    if (last === undefined || page.rows.length < NEXT_DUE_PAGE) return earliest === Infinity ? null : new Date(earliest)
    after = { at: last.at, id: last.id }
  }
}

const NEXT_DUE_PAGE = 1_000
// A `listen --forward-to` session's deliveries are claimed by the process holding it, never by the engine.
const NOT_CLI = 'webhook_id NOT IN (SELECT webhook_id FROM cli_sessions)'

const DUE = "status = 'pending' AND next_attempt_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1)"

/** `due` counts what a claim could take now: deliveries in flight (under a live lease) are not due. */
export async function queueStats (db: pg.Pool, now: Date, failedSince: Date): Promise<QueueStats> {
  const nowMs = now.getTime()
  const result = await db.query<{ pending: number, due: number, oldest: number | null, failed: number }>(
    `SELECT
       (SELECT count(*) FROM deliveries WHERE status = 'pending') AS pending,
       (SELECT count(*) FROM deliveries WHERE ${DUE}) AS due,
       (SELECT min(next_attempt_at) FROM deliveries WHERE ${DUE}) AS oldest,
       (SELECT count(*) FROM deliveries WHERE status = 'failed' AND updated_at >= $2) AS failed`,
    [nowMs, failedSince.getTime()])
  const row = result.rows[0]
  return {
    pending: row?.pending ?? 0,
    due: row?.due ?? 0,
    oldestDueAgeMs: row?.oldest == null ? 0 : Math.max(0, nowMs - row.oldest),
    failedSince: row?.failed ?? 0,
  }
}

/** The health strip of one workspace, or of some of its webhooks (a persona-scoped portal token). */
export async function workspaceQueueStats (
  db: pg.Pool, workspaceId: string, failedSince: Date, webhookIds?: readonly string[],
): Promise<WorkspaceQueueStats> {
  const scope = webhookIds === undefined ? '' : ' AND webhook_id = ANY($3::text[])'
  const values: unknown[] = [workspaceId, failedSince.getTime()]
  if (webhookIds !== undefined) values.push([...webhookIds])
  const result = await db.query<{ pending: number, failed: number }>(
    `SELECT
       (SELECT count(*) FROM deliveries WHERE workspace_id = $1 AND status = 'pending'${scope}) AS pending,
       (SELECT count(*) FROM deliveries WHERE workspace_id = $1 AND status = 'failed' AND updated_at >= $2${scope}) AS failed`,
    values)
  const row = result.rows[0]
  return { pending: row?.pending ?? 0, failedSince: row?.failed ?? 0 }
}

/** One webhook's attempts started in [from, to), oldest first: a range of attempts_webhook_time. */
export async function attemptSamples (db: pg.Pool, webhookId: string, from: Date, to: Date): Promise<AttemptSample[]> {
  const result = await db.query<{ started_at: number, duration_ms: number, status_code: number | null }>(
    `SELECT started_at, duration_ms, status_code FROM attempts
     WHERE webhook_id = $1 AND started_at >= $2 AND started_at < $3 ORDER BY started_at`,
    [webhookId, from.getTime(), to.getTime()])
  return result.rows.map((row) => ({ startedAt: new Date(row.started_at), durationMs: row.duration_ms, statusCode: row.status_code }))
}
