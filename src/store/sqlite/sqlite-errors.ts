import { ServiceError } from '../../errors.js'

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
