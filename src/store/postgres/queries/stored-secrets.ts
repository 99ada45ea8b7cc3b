/** Store.listStoredSecrets and rewriteStoredSecrets: secret columns as stored, for src/store/secrets. */
import type pg from 'pg'
import type { StoredSecretFields } from '../../store.js'
import { transaction } from '../transaction.js'

function jsonOrNull (value: Record<string, string> | null): string | null {
  return value === null ? null : JSON.stringify(value)
}

export async function listStoredSecrets (db: pg.Pool, afterId: string | null, limit: number): Promise<StoredSecretFields[]> {
  const result = await db.query<{ id: string, secret: string | null, previous_secret: string | null, custom_headers: Record<string, string> | null }>(
    `SELECT id, secret, previous_secret, custom_headers FROM webhooks
     WHERE (secret IS NOT NULL OR previous_secret IS NOT NULL OR custom_headers IS NOT NULL) AND id > $1 ORDER BY id LIMIT $2`,
    [afterId ?? '', limit])
  return result.rows.map((r) => ({ id: r.id, secret: r.secret, previousSecret: r.previous_secret, headers: r.custom_headers }))
}

export async function rewriteStoredSecrets (db: pg.Pool, items: ReadonlyArray<{ before: StoredSecretFields, after: StoredSecretFields }>): Promise<number> {
  if (items.length === 0) return 0
  return await transaction(db, async (client) => {
    let changed = 0
    for (const { before, after } of items) {
      const result = await client.query(
        `UPDATE webhooks SET secret = $2, previous_secret = $3, custom_headers = $6::jsonb
         WHERE id = $1 AND secret IS NOT DISTINCT FROM $4 AND previous_secret IS NOT DISTINCT FROM $5
           AND custom_headers IS NOT DISTINCT FROM $7::jsonb`,
        [before.id, after.secret, after.previousSecret, before.secret, before.previousSecret,
          jsonOrNull(after.headers), jsonOrNull(before.headers)])
      changed += result.rowCount ?? 0
    }
    return changed
  })
}
