import type { ResolvedConfig } from '../config/schema.js'
import type { Metrics } from '../observability/metrics.js'
import type { Store } from '../store/store.js'
import type { Logger } from '../util/logger.js'

/** What the API needs; buildApp gets it, every route file reads from it. */
export interface ApiDeps {
  store: Store
  config: Pick<ResolvedConfig, 'allowPrivateNetworks' | 'bodyLimitBytes'>
  logger: Logger
  metrics: Metrics
}
