import { migration0001 } from './0001-init.js'
import { migration0002 } from './0002-webhook-routes.js'
import { migration0003 } from './0003-claim-lanes.js'
import { migration0004 } from './0004-cli-sessions.js'
import { migration0005 } from './0005-endpoint-health.js'
import { migration0006 } from './0006-secrets-retention.js'
import { migration0007 } from './0007-subscription-options.js'
import { migration0008 } from './0008-search-stats-portal.js'
import { migration0009 } from './0009-ingest-cost.js'
import { migration0010 } from './0010-order-places.js'
import { migration0011 } from './0011-routes-version.js'
import { migration0012 } from './0012-status-listings.js'
import { migration0013 } from './0013-scheduled-lanes.js'

export interface Migration {
  version: number
  name: string
  sql: string
}

/** Every migration in order. Numbers match the SQLite driver's, so both stores stay at one version. */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008, migration0009, migration0010, migration0011, migration0012, migration0013]
