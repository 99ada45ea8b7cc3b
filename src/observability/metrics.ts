/**
 * Prometheus metrics (docs/api.md, "Metrics"). The engine reports every attempt through
 * `recordAttempt`, the API every request through `recordRequest`; queue gauges are read from the
 * store when /metrics is scraped, so they are never stale and cost nothing between scrapes.
 *
 * Node's standard process metrics keep their standard names (process_cpu_seconds_total,
 * nodejs_heap_size_used_bytes …) so ready-made dashboards find them. Every labelled counter starts
 * at 0 for each of its known label values, so rate() sees the first event. Per-webhook series
 * are opt-in (KEJUE_METRICS_PER_WEBHOOK): a workspace may hold thousands of webhooks, and
 * GET /webhooks/{id}/stats serves per-webhook charts without them.
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
  /** One API request: its route pattern (never the raw URL), status and duration. */
  recordRequest (request: { method: string, route: string, statusCode: number, durationMs: number }): void
  /** Lets the queue gauges read from this store (the store may be opened after the metrics). */
  useStore (store: Store): void
}

const OUTCOMES: readonly AttemptMetricOutcome[] = ['delivered', 'rejected', 'failed', 'blocked']

export interface MetricsOptions {
  store?: Store
  /** Process metrics (CPU, memory, event loop); on by default, off in tests that make many. */
  processMetrics?: boolean
  /** `kejue_webhook_attempts_total{webhook_id, outcome}` (KEJUE_METRICS_PER_WEBHOOK); off by default. */
  perWebhook?: boolean
}

export function createMetrics (options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  let store: Store | null = options.store ?? null
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry })

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
  const perWebhook = options.perWebhook === true
    ? new Counter({
      name: 'kejue_webhook_attempts_total',
      help: 'Delivery attempts per webhook by outcome (inline and deleted webhooks share the labels "inline" and "deleted")',
      labelNames: ['webhook_id', 'outcome'] as const,
      registers: [registry],
    })
    : null
  const requests = new Histogram({
    name: 'kejue_http_request_duration_seconds',
    help: 'API requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  // Known label values start at 0, so the first failure shows as an increase.
  for (const outcome of OUTCOMES) {
    attempts.inc({ outcome }, 0)
    duration.zero({ outcome })
  }
  for (const status of ['succeeded', 'failed'] as const) finished.inc({ status }, 0)

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

  const perWebhookSeen = new Set<string>()

  return {
    registry,
    recordAttempt (attempt) {
      attempts.inc({ outcome: attempt.outcome })
      duration.observe({ outcome: attempt.outcome }, attempt.durationMs / 1000)
      if (perWebhook !== null) {
        // A new webhook's series appears with every outcome at 0.
        if (!perWebhookSeen.has(attempt.webhookId)) {
          perWebhookSeen.add(attempt.webhookId)
          for (const outcome of OUTCOMES) perWebhook.inc({ webhook_id: attempt.webhookId, outcome }, 0)
        }
        perWebhook.inc({ webhook_id: attempt.webhookId, outcome: attempt.outcome })
      }
      if (attempt.final !== null) finished.inc({ status: attempt.final })
    },
    recordRequest ({ method, route, statusCode, durationMs }) {
      requests.observe({ method, route, status_code: String(statusCode) }, durationMs / 1000)
    },
    useStore (next) {
      store = next
    },
  }
}
