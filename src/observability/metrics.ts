/**
 * Prometheus metrics. The engine reports every attempt through `recordAttempt`; queue gauges
 * are read from the store when /metrics is scraped, so they are never stale and cost nothing
 * between scrapes.
 */
import { DEFAULTS } from '../config/defaults.js'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Store } from '../store/store.js'

export type AttemptMetricOutcome = 'delivered' | 'rejected' | 'failed' | 'blocked'

export interface AttemptMetric {
  webhookId: string
  outcome: AttemptMetricOutcome
  durationMs: number
  /** How the delivery ended with this attempt, or null when it stays pending (a retry follows). */
  final: 'succeeded' | 'failed' | null
}

export interface Metrics {
  readonly registry: Registry
  recordAttempt (attempt: AttemptMetric): void
  /** Lets the queue gauges read from this store (the store may be opened after the metrics). */
  useStore (store: Store): void
}

export interface MetricsOptions {
  store?: Store
  /** Process metrics (CPU, memory, event loop); on by default, off in tests that make many. */
  processMetrics?: boolean
}

export function createMetrics (options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  let store: Store | null = options.store ?? null
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'kejue_' })

  const attempts = new Counter({
    name: 'kejue_delivery_attempts_total',
    help: 'Delivery attempts by outcome: delivered (2xx), rejected (3xx/4xx, permanent), failed (5xx, timeout, network; retried while attempts remain), blocked (refused before sending)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const finished = new Counter({
    name: 'kejue_deliveries_total',
    help: 'Deliveries that reached a final status',
    labelNames: ['status'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'kejue_delivery_attempt_duration_seconds',
    help: 'Duration of delivery attempts, connect to last response byte',
    labelNames: ['outcome'] as const,
    // Receivers should answer within the default 5 s timeout; the top buckets catch the 30 s maximum.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  })
  const endpointFailures = new Counter({
    name: 'kejue_endpoint_failed_attempts_total',
    help: 'Attempts that did not deliver, per webhook',
    labelNames: ['webhook_id'] as const,
    registers: [registry],
  })

  new Gauge({
    name: 'kejue_deliveries_pending',
    help: 'Deliveries with attempts still to make',
    registers: [registry],
    async collect () {
      const stats = await queueStats()
      if (stats !== null) this.set(stats.pending)
    },
  })
  new Gauge({
    name: 'kejue_deliveries_due',
    help: 'Pending deliveries whose next attempt is due now',
    registers: [registry],
    async collect () {
      const stats = await queueStats()
      if (stats !== null) this.set(stats.due)
    },
  })
  new Gauge({
    name: 'kejue_oldest_due_delivery_age_seconds',
    help: 'How long the oldest due delivery has been waiting (0 when none): the queue lag',
    registers: [registry],
    async collect () {
      const stats = await queueStats()
      if (stats !== null) this.set(stats.oldestDueAgeMs / 1000)
    },
  })

  // One store query per scrape, shared by the three gauges.
  let pendingStats: Promise<Awaited<ReturnType<Store['queueStats']>> | null> | null = null
  function queueStats (): Promise<Awaited<ReturnType<Store['queueStats']>> | null> {
    if (store === null) return Promise.resolve(null)
    if (pendingStats === null) {
      const now = new Date()
      pendingStats = store.queueStats(now, new Date(now.getTime() - DEFAULTS.metrics.failedWindowMs))
        .catch(() => null)
        .finally(() => { setImmediate(() => { pendingStats = null }) })
    }
    return pendingStats
  }

  return {
    registry,
    recordAttempt (attempt) {
      attempts.inc({ outcome: attempt.outcome })
      duration.observe({ outcome: attempt.outcome }, attempt.durationMs / 1000)
      if (attempt.outcome !== 'delivered') endpointFailures.inc({ webhook_id: attempt.webhookId })
      if (attempt.final !== null) finished.inc({ status: attempt.final })
    },
    useStore (next) {
      store = next
    },
  }
}
