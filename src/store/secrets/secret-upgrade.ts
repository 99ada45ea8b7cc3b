/**
 * The start-up check and upgrade of stored secrets, and `kejue-webhooks reencrypt`
 * (docs/storage.md, "Encryption at rest"). Both walk every webhook's stored secret fields in
 * pages and rewrite a row only where it still holds what was read (a rotation running meanwhile
 * wins).
 * - At start: a value no key can open stops the start-up (ConfigError naming the key ids it
 *   needs); a clear value (a store from before encryption) is sealed under the first key. A
 *   sealed marker in the settings catches a wrong key even before any webhook exists.
 * - reencrypt: every value not sealed under the first key is sealed again under it, so older
 *   keys can then be dropped from KEJUE_ENCRYPTION_KEY.
 */
import type { Store, StoredSecretFields } from '../store.js'
import type { SecretCodec } from './secret-codec.js'
import { unopenable } from './secret-codec.js'
import { SEALED_WEBHOOK_FIELDS } from './sealed-fields.js'

/** Settings key of the marker sealed under the key in use. */
export const KEY_CHECK_SETTING = 'encryption.key_check'
const KEY_CHECK_TEXT = 'kejue-webhooks key check'
const PAGE = 500

export interface SecretScan {
  /** Rows whose fields were rewritten. */
  rewritten: number
  /** Rows looked at. */
  scanned: number
}

type FieldName = keyof Omit<StoredSecretFields, 'id'>

function fieldNames (): FieldName[] {
  return Object.keys(SEALED_WEBHOOK_FIELDS) as FieldName[]
}

function opensOrNull (codec: SecretCodec, value: string): string | null {
  try {
    codec.open(value)
    return null
  } catch {
    return codec.keyIdOf(value) ?? 'unknown'
  }
}

/**
 * Walks every stored secret: throws when any cannot be opened, else rewrites each row where
 * `rewrite` changes a field (the stored form in, the stored form out).
 */
async function walk (store: Store, codec: SecretCodec, rewrite: (stored: unknown, name: FieldName) => unknown): Promise<SecretScan> {
  const missing: string[] = []
  let scanned = 0
  let rewritten = 0
  let after: string | null = null
  for (;;) {
    const page: StoredSecretFields[] = await store.listStoredSecrets(after, PAGE)
    if (page.length === 0) break
    after = page[page.length - 1]?.id ?? null
    scanned += page.length
    const changes: Array<{ before: StoredSecretFields, after: StoredSecretFields }> = []
    for (const row of page) {
      const next: StoredSecretFields = { ...row }
      let changed = false
      for (const name of fieldNames()) {
        const field = SEALED_WEBHOOK_FIELDS[name]
        if (field === undefined) continue
        for (const part of field.parts(row[name])) {
          const bad = opensOrNull(codec, part)
          if (bad !== null) missing.push(bad)
        }
        if (missing.length > 0) continue
        const value = rewrite(row[name], name)
        // By content: a record field comes back as a new object even when nothing was sealed anew.
        if (JSON.stringify(value) !== JSON.stringify(row[name])) {
          (next as unknown as Record<string, unknown>)[name] = value
          changed = true
        }
      }
      if (changed) changes.push({ before: row, after: next })
    }
    if (missing.length === 0 && changes.length > 0) rewritten += await store.rewriteStoredSecrets(changes)
  }
  if (missing.length > 0) throw unopenable(missing.length, missing)
  return { rewritten, scanned }
}

async function checkMarker (store: Store, codec: SecretCodec, reseal: boolean): Promise<void> {
  const marker = await store.getSetting(KEY_CHECK_SETTING)
  if (marker !== null) {
    const bad = opensOrNull(codec, marker)
    if (bad !== null) throw unopenable('all', [bad])
    if (!reseal || codec.keyIdOf(marker) === codec.primaryKeyId) return
  }
  await store.setSetting(KEY_CHECK_SETTING, codec.seal(KEY_CHECK_TEXT))
}

/** At every start, before the store is used: refuses a wrong key, seals clear secrets. */
export async function upgradeStoredSecrets (store: Store, codec: SecretCodec): Promise<SecretScan> {
  await checkMarker(store, codec, false)
  return await walk(store, codec, (stored, name) => SEALED_WEBHOOK_FIELDS[name]?.seal(codec, stored) ?? stored)
}

/** `kejue-webhooks reencrypt`: every stored secret sealed again under the first key. */
export async function reencryptStoredSecrets (store: Store, codec: SecretCodec): Promise<SecretScan> {
  await checkMarker(store, codec, true)
  return await walk(store, codec, (stored, name) => {
    const field = SEALED_WEBHOOK_FIELDS[name]
    if (field === undefined) return stored
    // Already under the first key: left alone, so a second run rewrites nothing.
    if (field.parts(stored).every((part) => codec.keyIdOf(part) === codec.primaryKeyId)) return stored
    return field.seal(codec, field.open(codec, stored))
  })
}
