import type { Database } from 'better-sqlite3'
import type { AttemptSample, QueueStats, WebhookStats, WorkspaceQueueStats } from '../../store.js'
import { fromMsOrNull } from '../rows.js'

/** Webhook stats, queue stats and the next due time: read-only aggregates. */
export function prepareStats (db: Database) {
  const webhookCounts = db.prepare<[string, string], {
    id: string, total: number, failed: number, succeeded: number, parked: number, last_attempt_at: number | null, last_error: string | null
  }>(`SELECT w.id, w.last_attempt_at, w.last_error,
      (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'parked') AS parked,
      (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.id) AS total,
      (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'failed') AS failed,
      (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'succeeded') AS succeeded
    FROM webhooks w
    WHERE w.workspace_id = ? AND w.id IN (SELECT value FROM json_each(?))`)
  // Both halves walk a small index range: pending rows without a lease in due order stop at the
  // first hit; leased rows are only those in flight.
  const nextFree = db.prepare<[], { t: number }>(`SELECT next_attempt_at AS t FROM deliveries
    WHERE status = 'pending' AND lease_expires_at IS NULL AND next_attempt_at IS NOT NULL
      AND webhook_id NOT IN (SELECT webhook_id FROM cli_sessions) ORDER BY next_attempt_at LIMIT 1`)
  const nextLeaseEnd = db.prepare<[], { t: number }>(`SELECT lease_expires_at AS t FROM deliveries
    WHERE lease_expires_at IS NOT NULL AND status = 'pending'
      AND webhook_id NOT IN (SELECT webhook_id FROM cli_sessions) ORDER BY lease_expires_at LIMIT 1`)
  const queue = db.prepare<{ now: number, since: number }, {
    pending: number, due: number, oldest: number | null, failed: number
  }>(`SELECT
      (SELECT COUNT(*) FROM deliveries WHERE status = 'pending') AS pending,
      due.n AS due, due.oldest AS oldest,
      (SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND updated_at >= @since) AS failed
    FROM (SELECT COUNT(*) AS n, MIN(next_attempt_at) AS oldest FROM deliveries
          WHERE status = 'pending' AND next_attempt_at <= @now
            AND (lease_expires_at IS NULL OR lease_expires_at <= @now)) AS due`)
  // The health strip of one workspace: (workspace_id, status, id) and the failed-by-workspace index.
  const workspaceQueue = db.prepare<{ ws: string, since: number }, { pending: number, failed: number }>(`SELECT
      (SELECT COUNT(*) FROM deliveries WHERE workspace_id = @ws AND status = 'pending') AS pending,
      (SELECT COUNT(*) FROM deliveries WHERE workspace_id = @ws AND status = 'failed' AND updated_at >= @since) AS failed`)
  const webhooksQueue = db.prepare<{ ws: string, since: number, ids: string }, { pending: number, failed: number }>(`SELECT
      (SELECT COUNT(*) FROM deliveries WHERE webhook_id IN (SELECT value FROM json_each(@ids)) AND workspace_id = @ws AND status = 'pending') AS pending,
      (SELECT COUNT(*) FROM deliveries WHERE webhook_id IN (SELECT value FROM json_each(@ids)) AND workspace_id = @ws AND status = 'failed' AND updated_at >= @since) AS failed`)
  const samples = db.prepare<[string, number, number], { started_at: number, duration_ms: number, status_code: number | null }>(
    `SELECT started_at, duration_ms, status_code FROM attempts
     WHERE webhook_id = ? AND started_at >= ? AND started_at < ? ORDER BY webhook_id, started_at`)

  return {
    workspaceQueueStats (workspaceId: string, failedSince: Date, webhookIds?: readonly string[]): WorkspaceQueueStats {
      const row = webhookIds === undefined
        ? workspaceQueue.get({ ws: workspaceId, since: failedSince.getTime() })
        : webhooksQueue.get({ ws: workspaceId, since: failedSince.getTime(), ids: JSON.stringify(webhookIds) })
      return { pending: row?.pending ?? 0, failedSince: row?.failed ?? 0 }
    },
    attemptSamples (webhookId: string, from: Date, to: Date): AttemptSample[] {
      return samples.all(webhookId, from.getTime(), to.getTime()).map((row) => ({
        startedAt: new Date(row.started_at),
        durationMs: row.duration_ms,
        statusCode: row.status_code,
      }))
    },
    webhookStats (workspaceId: string, ids: readonly string[]): Map<string, WebhookStats> {
      const stats = new Map<string, WebhookStats>()
      if (ids.length === 0) return stats
      for (const row of webhookCounts.all(workspaceId, JSON.stringify(ids))) {
        stats.set(row.id, {
          totalDeliveries: row.total,
          failedDeliveries: row.failed,
          succeededDeliveries: row.succeeded,
          parkedDeliveries: row.parked,
          lastDeliveryAt: fromMsOrNull(row.last_attempt_at),
          lastError: row.last_error,
        })
      }
      return stats
    },
    /**
     * When claimDue could next return something: the earliest due time of a free pending
     * delivery, or the earliest expiry of a lease (a crashed worker's delivery comes back then).
     * A delivery in flight is not "due" while its lease lives, so the engine does not spin on it.
     */
    nextDueAt (): Date | null {
      const free = nextFree.get()?.t ?? null
      const leaseEnd = nextLeaseEnd.get()?.t ?? null
      if (free === null) return fromMsOrNull(leaseEnd)
      if (leaseEnd === null) return fromMsOrNull(free)
      return new Date(Math.min(free, leaseEnd))
    },
    queueStats (now: Date, failedSince: Date): QueueStats {
      const nowMs = now.getTime()
      const row = queue.get({ now: nowMs, since: failedSince.getTime() })
      const oldest = row?.oldest ?? null
      return {
        pending: row?.pending ?? 0,
        due: row?.due ?? 0,
        oldestDueAgeMs: oldest === null ? 0 : Math.max(0, nowMs - oldest),
        failedSince: row?.failed ?? 0,
      }
    },
  }
}
