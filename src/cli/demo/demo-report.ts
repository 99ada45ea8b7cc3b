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
  elapsedMs: number
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
    allVerified(summary)
      ? `✔ every delivery verified (${summary.requests.verified}/${summary.requests.total})`
      : `✘ ${summary.requests.rejected} of ${summary.requests.total} deliveries did not verify`,
    '',
  ]
  return lines.join('\n')
}
