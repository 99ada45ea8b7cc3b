import type pg from 'pg'

/** Runs `fn` in one transaction on one pooled client; nothing slow may happen inside `fn`. */
export async function transaction<T> (pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    try {
      await client.query('ROLLBACK')
    } catch {
      // The connection itself failed: do not hand it back to the pool.
      broken = true
    }
    throw err
  } finally {
    client.release(broken)
  }
}

/** Postgres' unique_violation: the row (by primary key or unique index) already exists. */
export function isUniqueViolation (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505'
}
