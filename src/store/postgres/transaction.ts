import type pg from 'pg'
import { isQueryReadTimeout } from './pg-errors.js'

/** Runs `fn` in one transaction on one pooled client; nothing slow may happen inside `fn`. */
export async function transaction<T> (pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  // The pool listens for errors only on idle clients. A connection that dies while checked out
  // (pg_terminate_backend, a restart) emits 'error' here, often after the failed query already
  // rejected: without a listener that event would kill the process.
  const onError = (): void => { broken = true }
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    // A connection that went silent would hold a ROLLBACK as long again: drop it (the server
    // rolls back a transaction whose connection is gone).
    if (isQueryReadTimeout(err)) broken = true
    else {
      try {
        await client.query('ROLLBACK')
      } catch {
        // The connection itself failed: do not hand it back to the pool.
        broken = true
      }
    }
    throw err
  } finally {
    client.release(broken)
    client.removeListener('error', onError)
  }
}

/** Postgres' unique_violation: the row (by primary key or unique index) already exists. */
export function isUniqueViolation (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505'
}
