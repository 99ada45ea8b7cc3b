/**
 * GET /webhooks/{id}/stats (docs/api.md, "Charts"): a webhook's attempts in UTC-aligned buckets,
 * oldest first, empty buckets included. An attempt counts in the bucket it started in: 2xx is
 * succeeded, any other outcome failed; p50/p95 are nearest-rank percentiles of the durations.
 * The store reads one index range (attempts by webhook and start time) for the window.
 */
import type { AttemptSample } from '../store/store.js'

export const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const
export const BUCKETS = { '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 } as const
export type WindowName = keyof typeof WINDOWS
export type BucketName = keyof typeof BUCKETS

export interface SeriesBucket {
  start: string
  succeeded: number
  failed: number
  p50_ms: number | null
  p95_ms: number | null
}

/**
 * The window ÷ bucket buckets ending with the one holding now, aligned to multiples of the bucket
 * size since the Unix epoch (UTC): the first starts just after the bucket holding `now - window`.
 */
export function seriesRange (now: Date, window: WindowName, bucket: BucketName): { from: Date, to: Date, size: number } {
  const size = BUCKETS[bucket]
  const end = Math.floor(now.getTime() / size) * size + size
  const from = Math.floor((now.getTime() - WINDOWS[window]) / size) * size + size
  return { from: new Date(Math.min(from, end - size)), to: new Date(end), size }
}

/** Nearest-rank percentile of sorted values. */
function percentile (sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(sorted.length, rank) - 1] ?? null
}

export function bucketSeries (samples: readonly AttemptSample[], range: { from: Date, to: Date, size: number }): SeriesBucket[] {
  const from = range.from.getTime()
  const count = Math.round((range.to.getTime() - from) / range.size)
  const durations: number[][] = Array.from({ length: count }, () => [])
  const ok = new Array<number>(count).fill(0)
  for (const sample of samples) {
    const i = Math.floor((sample.startedAt.getTime() - from) / range.size)
    if (i < 0 || i >= count) continue
    durations[i]?.push(sample.durationMs)
    if (sample.statusCode !== null && sample.statusCode >= 200 && sample.statusCode < 300) ok[i] = (ok[i] ?? 0) + 1
  }
  return durations.map((values, i) => {
    const sorted = [...values].sort((a, b) => a - b)
    const succeeded = ok[i] ?? 0
    return {
      start: new Date(from + i * range.size).toISOString(),
      succeeded,
      failed: values.length - succeeded,
      p50_ms: percentile(sorted, 50),
      p95_ms: percentile(sorted, 95),
    }
  })
}
