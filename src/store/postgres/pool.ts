import { DEFAULTS } from '../../config/defaults.js'
import pg from 'pg'
import { ConfigError } from '../../errors.js'

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`. */
  connectionString: string
  /**
   * Schema holding every table; created when missing. Lets several services (or every test) share
   * one database. @defaultValue the server's search_path (normally `public`)
   */
  schema?: string
  /** Pooled connections, besides the one that LISTENs for work. @defaultValue 10 */
  poolSize?: number
  /** `KEJUE_COMMIT_GATHER_MS` (batch-gather.ts). @defaultValue 0 */
  commitGatherMs?: number
  /**
   * `KEJUE_DATABASE_QUERY_TIMEOUT_MS`: how long a statement may run; 0 for none (migrations).
   * @defaultValue 15000
   */
  queryTimeoutMs?: number
}

export interface ResolvedPostgresStoreOptions {
  connectionString: string
  schema: string | null
  poolSize: number
  queryTimeoutMs: number
}

const INT8_OID = 20
const CONNECT_TIMEOUT_MS = 10_000
/**
 * The client's wait for statements whose work grows with a webhook's whole backlog — parking,
 * replaying, failing or recovering all its deliveries, an erasure's scan of a workspace's events:
 * minutes on millions of rows, where KEJUE_DATABASE_QUERY_TIMEOUT_MS would fail them for good.
 */
export const BULK_QUERY_TIMEOUT_MS = 30 * 60_000

/** A query with the bulk wait (BULK_QUERY_TIMEOUT_MS) instead of the connection's. */
export function bulk (text: string, values: readonly unknown[]): pg.QueryConfig {
  // pg reads query_timeout per query; its types leave it out of QueryConfig.
  return Object.assign({ text, values: [...values] }, { query_timeout: BULK_QUERY_TIMEOUT_MS })
}
// Plain identifiers only: the name goes into `-c search_path=` and into SQL text unescaped.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function resolvePostgresOptions (options: PostgresStoreOptions): ResolvedPostgresStoreOptions {
  const schema = options.schema ?? null
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`postgres schema must match ${String(SCHEMA_NAME)}`)
  }
  const poolSize = options.poolSize ?? DEFAULTS.store.postgresPoolSize
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new ConfigError('postgres poolSize must be a positive integer')
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULTS.store.postgresQueryTimeoutMs
  if (!Number.isInteger(queryTimeoutMs) || queryTimeoutMs < 0) throw new ConfigError('postgres queryTimeoutMs must be a non-negative integer')
  return { connectionString: options.connectionString, schema, poolSize, queryTimeoutMs }
}

/**
 * Times are bigint Unix ms and counts are bigint; both stay far below 2^53, so int8 is parsed to
 * a number here (per pool, not by mutating pg's global parsers).
 */
export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value)
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text')
  }) as pg.CustomTypesConfig['getTypeParser'],
}

/**
 * Plain index scans only, for statements written to read a few index entries and stop: the
 * engine's (below) and the delivery listings (queries/deliveries.ts, in a transaction). Without
 * statistics, or with stale ones, the planner otherwise chose bitmap and sequential scans that
 * read a whole range or table on every run (docs/performance.md, ninth and eleventh rounds).
 */
export const INDEX_SCANS_ONLY: Readonly<Record<string, string>> = { enable_bitmapscan: 'off', enable_seqscan: 'off' }

/** `SET LOCAL` of each setting, one statement for a transaction to run first. */
export function setLocal (settings: Readonly<Record<string, string>>): string {
  return Object.entries(settings).map(([name, value]) => `SET LOCAL ${name} = ${value}`).join('; ')
}

/**
 * The engine's pool (claims, leases, settlements, nextDueAt): commits without waiting for the WAL
 * flush — one lost in a database crash is an expired lease, so the delivery is attempted again
 * (at least once, docs/storage.md) — and reads deliveries through plain index scans only. Never a
 * bitmap scan: it returns every entry of the range, among them one for each delivery settled since
 * the last VACUUM, on every claim; an index scan marks those dead as it passes and skips them from
 * then on (docs/performance.md, "Ninth round"). Never a sequential scan: on a young database the
 * planner hashed the whole table for each settlement batch (~15 ms at 25,000 rows) until the
 * table outgrew its estimate (eleventh round; test/delivery/key-lookups.test.ts). Nothing on that
 * pool searches.
 */
export const ENGINE_SESSION_SETTINGS: Readonly<Record<string, string>> = { synchronous_commit: 'off', ...INDEX_SCANS_ONLY }

/**
 * Server settings of every connection. No JIT compilation: every statement here is short, and
 * JIT's compile runs whenever the planner's estimate passes `jit_above_cost` — as it does without
 * statistics or on a large table: ~380 ms of compiling for each lane claim of a 10 ms execution,
 * with a million deliveries pending (docs/performance.md, eleventh round).
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = { jit: 'off' }

/**
 * Connection settings shared by the pools and the listener. `settings` are server settings for
 * the session (`-c name=value` at start-up), on top of SESSION_SETTINGS.
 */
export function clientConfig (options: ResolvedPostgresStoreOptions, settings: Record<string, string> = {}): pg.ClientConfig {
  const timeout = options.queryTimeoutMs
  const startup = {
    ...SESSION_SETTINGS,
    ...(options.schema === null ? {} : { search_path: options.schema }),
    // The server ends a session left inside a transaction this long: one whose client went silent
    // would otherwise hold its row locks until the server's own keep-alive gave up (hours). No
    // statement_timeout: a statement may rightly run long (bulk() above), and the client's
    // query_timeout below is what finds a silent connection. Migrations (timeout 0) run with
    // none at all, whatever the role's defaults.
    ...(timeout === 0 ? { statement_timeout: '0' } : { idle_in_transaction_session_timeout: String(timeout) }),
    ...settings,
  }
  const startupOptions = Object.entries(startup).map(([name, value]) => `-c ${name}=${value}`).join(' ')
  return {
    connectionString: options.connectionString,
    types: typeParsers,
    application_name: 'kejue-webhooks',
    // A dead peer that never sent a FIN (a cut cable, a firewall) is noticed by TCP keep-alive
    // probes (within minutes, at the OS's probe interval) instead of waited on forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // While the database is unreachable a connection attempt (a pooled one, or the listener's)
    // gives up after this long; a request then fails with 503 STORE_UNAVAILABLE.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A connection that went silent (no FIN, no answer) fails its query here instead of after
    // TCP keep-alive gives up (minutes); the query's caller then drops the connection
    // (transaction(), pg-pool's own query) and gets 503 STORE_UNAVAILABLE.
    ...(timeout === 0 ? {} : { query_timeout: timeout }),
    // Set at connection start-up, so every pooled connection sees our tables first.
    ...(startupOptions === '' ? {} : { options: startupOptions }),
  }
}

export function createPool (options: ResolvedPostgresStoreOptions, settings: Record<string, string> = {}): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(options, settings),
    max: options.poolSize,
    idleTimeoutMillis: 30_000,
  })
  // An idle client that loses its connection emits here; without a handler the process dies.
  // The pool drops that client and the next query opens a fresh one. (A checked-out client is
  // covered by transaction(); pool.query covers its own.)
  pool.on('error', () => {})
  return pool
}
