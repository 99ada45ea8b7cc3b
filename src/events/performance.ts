import { ServiceError } from '../errors.js'
import type { CampaignPerformance, CampaignStats } from './schemas/campaign.js'

/**
 * campaign.ended's `performance` block, computed from its `stats` (spec: campaign.ended).
 *
 * The spec gives no formulas, only one example: total_contacts 500, completed 420, no_answer 50,
 * failed 10, voicemail 20 → connect_rate_percent 84.0, completion_rate_percent 86.0. So:
 *
 * - connect rate = completed ÷ total_contacts = 420 ÷ 500 = 84.0 %. "Connected" is the call
 *   status `completed` ("Call connected and conversation took place"); the only count giving 84.
 * - completion rate = (completed + failed) ÷ total_contacts = 430 ÷ 500 = 86.0 %: the contacts the
 *   campaign finished with a definite result on the line, a conversation or a failure, as opposed
 *   to contacts left unreached (no answer, voicemail) or never dialled (a cancelled campaign). No
 *   other plain count fits: (completed + voicemail) gives 88.0, (total − no_answer − failed) 88.0,
 *   and completed over any whole-number denominator cannot give exactly 86.0 %.
 *
 * Rates are percentages rounded to one decimal, kept within 0–100 (stats whose counts exceed
 * total_contacts are clamped rather than producing an invalid payload), and 0 for a campaign
 * with no contacts. The average call duration is the mean of the given calls' durations, rounded
 * to whole seconds (the spec prints `120`; call.ended reports whole `duration_seconds`); 0 when
 * there were no calls. Which calls to average is the caller's choice: Kejue averages the calls
 * that connected (call.ended `status: completed`).
 */

/** Call durations for the average: each call's seconds, or a precomputed total and count. */
export type CallDurationsInput = readonly number[] | { totalSeconds: number, calls: number }

export function computeCampaignPerformance (stats: CampaignStats, durations: CallDurationsInput): CampaignPerformance {
  return {
    connect_rate_percent: percentOf(stats.completed, stats.total_contacts),
    completion_rate_percent: percentOf(stats.completed + stats.failed, stats.total_contacts),
    average_call_duration_seconds: averageSeconds(durations),
  }
}

/** `part ÷ whole × 100`, one decimal, within 0–100; 0 when `whole` is 0. */
export function percentOf (part: number, whole: number): number {
  if (!(whole > 0) || !(part > 0)) return 0
  // Round in tenths of a percent from integers, so 84.05 does not become 84.0 by float error.
  const tenths = Math.round((part * 1000) / whole)
  return Math.min(tenths, 1000) / 10
}

function averageSeconds (durations: CallDurationsInput): number {
  let totalSeconds: number
  let calls: number
  if (isDurationList(durations)) {
    durations.forEach((seconds, index) => assertDuration(seconds, `durations[${index}]`))
    totalSeconds = durations.reduce((sum, seconds) => sum + seconds, 0)
    calls = durations.length
  } else {
    assertDuration(durations.totalSeconds, 'totalSeconds')
    if (!Number.isInteger(durations.calls) || durations.calls < 0) {
      throw new ServiceError('BAD_REQUEST', 'calls must be a whole number, 0 or more')
    }
    totalSeconds = durations.totalSeconds
    calls = durations.calls
  }
  return calls === 0 ? 0 : Math.round(totalSeconds / calls)
}

function isDurationList (durations: CallDurationsInput): durations is readonly number[] {
  return Array.isArray(durations)
}

function assertDuration (seconds: number, name: string): void {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ServiceError('BAD_REQUEST', `${name} must be a number of seconds, 0 or more`)
  }
}
