import { ServiceError } from '../../errors.js'

// Primary result codes (better-sqlite3 reports extended ones, e.g. SQLITE_IOERR_WRITE) that
// mean the file cannot be written right now: disk full, I/O error, read-only file or directory,
// locked by another process past busy_timeout, cannot open the WAL.
const OUTAGE_CODES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_BUSY', 'SQLITE_CANTOPEN']

/** True when `err` says the database file cannot be written now (503 STORE_UNAVAILABLE). */
export function isSqliteOutage (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && OUTAGE_CODES.some((outage) => code === outage || code.startsWith(`${outage}_`))
}

/** True for a UNIQUE or PRIMARY KEY violation reported by better-sqlite3. */
export function isUniqueViolation (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}

/** Runs `fn`, turning a uniqueness violation into a 409 CONFLICT that names only `what`. */
export function conflictOnDuplicate<T> (what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new ServiceError('CONFLICT', `${what} already exists`, { cause: err })
    }
    throw err
  }
}
