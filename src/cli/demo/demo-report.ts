/**
 * What `kejue-webhooks demo` prints: a progress bar while the campaign runs and a summary table
 * at the end. Pure functions of plain numbers, so they are tested without a terminal.
 */

export interface DemoSummary {
  campaign: {
    id: string
    endReason: string | null
    stats: Record<string, number>
    performance: Record<string, number>
  }
  /** Distinct events received by the listener, by type. */
  eventsByType: Record<string, number>
  deliveries: { total: number, succeeded: number, failed: number, pending: number, retried: number }
  /** Every request the listener got (attempts, retries included). */
  requests: { total: number, verified: number, rejected: number }
  /** Calls seen, and how many of them had an event arrive before one emitted earlier. */
  order: { calls: number, outOfOrder: number }
  elapsedMs: number
}

/** What callOrder needs of a received delivery. */
export interface ArrivedEvent {
  /** The status the receiver answered; only a 2xx counts as arrived. */
  status: number
  event: Record<string, unknown> | null
}

/**
 * Per-call order as the receiver saw it: for each call (data.job_id, data.call.id), the events
 * that arrived (2xx), in arrival order, must carry non-decreasing event timestamps.
 */
export function callOrder (received: readonly ArrivedEvent[]): { calls: number, outOfOrder: number } {
  const latest = new Map<string, string>()
  const broken = new Set<string>()
  for (const { status, event } of received) {
    if (status < 200 || status > 299 || event === null) continue
    const data = event.data as { job_id?: unknown, call?: { id?: unknown } } | undefined
    const job = typeof data?.job_id === 'string' ? data.job_id : typeof data?.call?.id === 'string' ? data.call.id : null
    const timestamp = event.timestamp
    if (job === null || typeof timestamp !== 'string') continue
    const before = latest.get(job)
    if (before !== undefined && timestamp < before) broken.add(job)
    else latest.set(job, timestamp)
  }
  return { calls: latest.size, outOfOrder: broken.size }
}

/** `[█████████░░░░░░░░░░░]  23/50 contacts  61 calls  143 events` */
export function renderProgress (done: number, total: number, detail: string, width = 30): string {
  const share = total > 0 ? Math.min(1, done / total) : 1
  const filled = Math.round(share * width)
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total} contacts  ${detail}`
}

function table (rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)
}

export function allVerified (summary: DemoSummary): boolean {
  return summary.requests.total > 0 && summary.requests.rejected === 0
}

export function renderSummary (summary: DemoSummary): string {
  const types = Object.keys(summary.eventsByType).sort()
  const totalEvents = types.reduce((sum, type) => sum + (summary.eventsByType[type] ?? 0), 0)
  const s = summary.campaign.stats
  const p = summary.campaign.performance
  const lines = [
    '',
    `Campaign ${summary.campaign.id}: ${summary.campaign.endReason ?? 'not ended'} in ${(summary.elapsedMs / 1000).toFixed(1)} s`,
    ...table([
      ['contacts', String(s.total_contacts ?? 0)],
      ['outcomes', `completed ${s.completed ?? 0}, no_answer ${s.no_answer ?? 0}, busy ${s.busy ?? 0}, failed ${s.failed ?? 0}, voicemail ${s.voicemail ?? 0}`],
      ['calls placed', `${s.calls_placed ?? 0} (re-dials included)`],
      ['connect rate', `${p.connect_rate_percent ?? 0} %`],
      ['completion rate', `${p.completion_rate_percent ?? 0} %`],
      ['average call', `${p.average_call_duration_seconds ?? 0} s`],
    ]),
    '',
    'Events received, by type',
    ...table([...types.map((type) => [type, String(summary.eventsByType[type])] as const), ['total', String(totalEvents)]]),
    '',
    'Deliveries',
    ...table([
      ['succeeded', String(summary.deliveries.succeeded)],
      ['failed', String(summary.deliveries.failed)],
      ['retried', `${summary.deliveries.retried} (succeeded on a later attempt or failed after retries)`],
      ['still pending', String(summary.deliveries.pending)],
    ]),
    '',
    'Signatures',
    ...table([
      ['requests', String(summary.requests.total)],
      ['verified', String(summary.requests.verified)],
      ['rejected', String(summary.requests.rejected)],
    ]),
    '',
    summary.order.outOfOrder === 0
      ? `✔ every call's events arrived in order (${summary.order.calls} calls)`
      : `✘ ${summary.order.outOfOrder} of ${summary.order.calls} calls had events arrive out of order`,
    allVerified(summary)
      ? `✔ every delivery verified (${summary.requests.verified}/${summary.requests.total})`
      : `✘ ${summary.requests.rejected} of ${summary.requests.total} deliveries did not verify`,
    '',
  ]
  return lines.join('\n')
}
