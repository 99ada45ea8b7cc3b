import type { ResolvedConfig } from '../config/schema.js'
import type { Metrics } from '../observability/metrics.js'
import type { Sandbox } from '../simulator/sandbox.js'
import type { Store } from '../store/store.js'
import type { Logger } from '../util/logger.js'
import type { Authenticator } from './auth.js'

/** What the API needs; buildApp gets it, every route file reads from it. */
export interface ApiDeps {
  store: Store
  config: Pick<ResolvedConfig, 'allowPrivateNetworks' | 'bodyLimitBytes'> &
    Partial<Pick<ResolvedConfig, 'publicUrl' | 'portalFrameAncestors' | 'metricsToken'>>
  logger: Logger
  metrics: Metrics
  /** The simulator, when the service runs with it on: dials persona calls, serves /campaigns. */
  sandbox?: Sandbox
  /** API key checks (cached briefly); made by buildApp. */
  auth: Authenticator
}
