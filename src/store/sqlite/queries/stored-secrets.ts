import type { Database } from 'better-sqlite3'
import type { StoredSecretFields } from '../../store.js'

function jsonOrNull (value: Record<string, string> | null): string | null {
  return value === null ? null : JSON.stringify(value)
}

/** Store.listStoredSecrets and rewriteStoredSecrets: secret columns as stored, for src/store/secrets. */
export function prepareStoredSecrets (db: Database) {
  const list = db.prepare<[string, number], { id: string, secret: string | null, previous_secret: string | null, custom_headers: string | null }>(`
    SELECT id, secret, previous_secret, custom_headers FROM webhooks
    WHERE (secret IS NOT NULL OR previous_secret IS NOT NULL OR custom_headers IS NOT NULL) AND id > ? ORDER BY id LIMIT ?`)
  const update = db.prepare(`UPDATE webhooks SET secret = @secret, previous_secret = @previousSecret, custom_headers = @headers
    WHERE id = @id AND secret IS @beforeSecret AND previous_secret IS @beforePrevious AND custom_headers IS @beforeHeaders`)
  const rewrite = db.transaction((items: ReadonlyArray<{ before: StoredSecretFields, after: StoredSecretFields }>): number => {
    let changed = 0
    for (const { before, after } of items) {
      changed += update.run({
        id: before.id, secret: after.secret, previousSecret: after.previousSecret,
        beforeSecret: before.secret, beforePrevious: before.previousSecret,
        // The stored JSON text: what the webhook writer wrote (JSON.stringify, same key order).
        headers: jsonOrNull(after.headers), beforeHeaders: jsonOrNull(before.headers),
      }).changes
    }
    return changed
  })
  return {
    listStoredSecrets (afterId: string | null, limit: number): StoredSecretFields[] {
      return list.all(afterId ?? '', limit).map((r) => ({
        id: r.id,
        secret: r.secret,
        previousSecret: r.previous_secret,
        headers: r.custom_headers === null ? null : JSON.parse(r.custom_headers) as Record<string, string>,
      }))
    },
    rewriteStoredSecrets: (items: ReadonlyArray<{ before: StoredSecretFields, after: StoredSecretFields }>): number => rewrite.immediate(items),
  }
}
