/**
 * Which PostgreSQL errors mean "the database cannot be reached or written" (an outage: 503
 * STORE_UNAVAILABLE, retry later) rather than a bad query or bad data (a bug: 500).
 */

// SQLSTATEs of a lost or refused connection, a shutting-down or recovering server, and a
// database that cannot be written (read-only, disk full).
const OUTAGE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, in recovery
  '53100', // disk_full
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction: a standby, or default_transaction_read_only
  '57014', // query_canceled: pg_cancel_backend, or a statement_timeout an operator set on the role
])

// Socket errors of a server that is down, restarting or unreachable.
const OUTAGE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])

// pg raises this, with no code, when a query's answer has not come within its query_timeout.
const QUERY_READ_TIMEOUT = 'Query read timeout'

// pg and pg-pool raise these as plain Errors, with no code.
const OUTAGE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  QUERY_READ_TIMEOUT,
]

/**
 * True when pg gave up waiting for a query's answer (pool.ts, query_timeout): the connection went
 * silent, and anything sent on it next would wait the same way, so it must not be used again.
 */
export function isQueryReadTimeout (err: unknown): boolean {
  return err instanceof Error && err.message === QUERY_READ_TIMEOUT
}

/** True when `err` says the database is unreachable or cannot be written right now. */
export function isPostgresOutage (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, message } = err as { code?: unknown, message?: unknown }
  if (typeof code === 'string') {
    // Class 08: connection exceptions (the connection failed or was refused).
    if (code.startsWith('08') || OUTAGE_SQLSTATES.has(code) || OUTAGE_ERRNOS.has(code)) return true
    // 55000 is used for many things; "not currently accepting connections" is ALLOW_CONNECTIONS false.
    if (code === '55000' && typeof message === 'string' && message.includes('not currently accepting connections')) return true
  }
  if (typeof message === 'string' && OUTAGE_MESSAGES.some((text) => message.includes(text))) return true
  // A refused connection to a host with several addresses (localhost: ::1 and 127.0.0.1).
  if (err instanceof AggregateError) return err.errors.some(isPostgresOutage)
  return false
}

/**
 * Why a store could not be opened, in words safe to print (no user name, no password), when the
 * cause is the database's reachability or the login; null for anything else:
 * - an outage: its code (ECONNREFUSED, 57P03 …), or pg's message when it has none;
 * - a refused login (class 28): its SQLSTATE alone, since pg's message names the user;
 * - a database that does not exist (3D000): pg's message, which names only the database.
 */
export function postgresOpenFailure (err: unknown): string | null {
  const { code, message } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown, message?: unknown }
  if (isPostgresOutage(err)) return typeof code === 'string' && code !== '' ? code : String(message)
  if (typeof code === 'string' && code.startsWith('28')) return `login refused, ${code}`
  if (code === '3D000') return String(message)
  return null
}
