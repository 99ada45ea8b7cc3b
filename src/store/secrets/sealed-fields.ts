/**
 * Which stored fields hold secrets, and how each is sealed: the one list the codec layer reads
 * (sealed-store.ts, the start-up upgrade and `reencrypt`). To store another secret field
 * encrypted, add it here and to `StoredSecretFields` with the two driver queries that read and
 * rewrite them (Store.listStoredSecrets / rewriteStoredSecrets). The layer matches these names on
 * every plain object passing through the Store, so no other Store argument or result may use them.
 */
import type { SecretCodec } from './secret-codec.js'

export interface SealedField {
  /** The stored form of a domain value (null and absent stay as they are). */
  seal (codec: SecretCodec, value: unknown): unknown
  open (codec: SecretCodec, value: unknown): unknown
  /** The sealed strings inside a stored value, for the upgrade scan and `reencrypt`. */
  parts (value: unknown): string[]
}

/** A string column: the whole value is sealed. */
export const sealedString: SealedField = {
  seal: (codec, value) => (typeof value === 'string' && !codec.isSealed(value) ? codec.seal(value) : value),
  open: (codec, value) => (typeof value === 'string' ? codec.open(value) : value),
  parts: (value) => (typeof value === 'string' ? [value] : []),
}

function mapValues (value: unknown, fn: (text: string) => string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? fn(v) : v]))
}

/** An object of strings (e.g. header name → value): each value is sealed, the keys stay readable. */
export const sealedRecordValues: SealedField = {
  seal: (codec, value) => mapValues(value, (v) => (codec.isSealed(v) ? v : codec.seal(v))),
  open: (codec, value) => mapValues(value, (v) => codec.open(v)),
  parts: (value) => (typeof value === 'object' && value !== null ? Object.values(value).filter((v): v is string => typeof v === 'string') : []),
}

/** Webhook (and WebhookPatch) fields stored sealed, by their domain name. */
export const SEALED_WEBHOOK_FIELDS: Readonly<Record<string, SealedField>> = {
  secret: sealedString,
  previousSecret: sealedString,
  // Custom header values (docs/api.md, "Subscription options") may be credentials too.
  headers: sealedRecordValues,
}

function mapFields<T extends object> (value: T, fn: (field: SealedField, stored: unknown) => unknown): T {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  for (const [name, field] of Object.entries(SEALED_WEBHOOK_FIELDS)) {
    if (Object.hasOwn(out, name)) out[name] = fn(field, out[name])
  }
  return out as T
}

/** A webhook-shaped object with its secret fields sealed (a copy; other fields untouched). */
export function sealFields<T extends object> (codec: SecretCodec, value: T): T {
  return mapFields(value, (field, stored) => field.seal(codec, stored))
}

/** The same with secret fields opened. */
export function openFields<T extends object> (codec: SecretCodec, value: T): T {
  return mapFields(value, (field, stored) => field.open(codec, stored))
}

/** Whether a plain object carries any of the sealed fields (a webhook, a patch, a claim's webhook). */
export function hasSealedFields (value: object): boolean {
  return Object.keys(SEALED_WEBHOOK_FIELDS).some((name) => Object.hasOwn(value, name))
}
