/**
 * /healthz asks whether the store can be WRITTEN (store.ping is a small committed write). Load
 * balancers poll it often, so one answer serves every caller for `ttlMs`, concurrent callers
 * share one probe, and a probe that does not answer within `timeoutMs` counts as unavailable.
 */
import { DEFAULTS } from '../config/defaults.js'
import type { Store } from '../store/store.js'

export interface HealthProbeOptions {
  /** How long one answer is reused. @defaultValue 1000 */
  ttlMs?: number
  /** A probe slower than this counts as a failure. @defaultValue 3000 */
  timeoutMs?: number
}

export function createHealthProbe (store: Pick<Store, 'ping'>, options: HealthProbeOptions = {}): () => Promise<boolean> {
  const ttlMs = options.ttlMs ?? DEFAULTS.api.healthProbeTtlMs
  const timeoutMs = options.timeoutMs ?? DEFAULTS.api.healthProbeTimeoutMs
  let cached: { ok: boolean, at: number } | null = null
  let running: Promise<boolean> | null = null

  async function probe (): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs) })
    try {
      const ok = await Promise.race([store.ping().catch(() => false), timeout])
      cached = { ok, at: Date.now() }
      return ok
    } finally {
      clearTimeout(timer)
      running = null
    }
  }

  return async () => {
    if (cached !== null && Date.now() - cached.at < ttlMs) return cached.ok
    running ??= probe()
    return await running
  }
}
