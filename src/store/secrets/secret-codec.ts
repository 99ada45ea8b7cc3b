/**
 * Envelope encryption of stored secrets (docs/storage.md, "Encryption at rest"): AES-256-GCM from
 * node:crypto, a fresh 96-bit nonce per value. A sealed value is text, so it fits the columns that
 * held the clear secret:
 *
 *   kejue-enc:v1:<key id>:<base64url(nonce ‖ tag ‖ ciphertext)>
 *
 * The key id (first 8 hex digits of SHA-256 over the key) says which key sealed it, so a list of
 * keys (KEJUE_ENCRYPTION_KEY) opens values sealed under any of them and `reencrypt` can tell which
 * are not under the first one yet.
 */
import { Buffer } from 'node:buffer'
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { ConfigError } from '../../errors.js'

const PREFIX = 'kejue-enc:v1:'
const NONCE_BYTES = 12
const TAG_BYTES = 16
// Opened values kept in memory (claims open the same webhook's secret again and again).
const OPEN_CACHE_SIZE = 10_000

export interface SecretCodec {
  /** The first key's id: new values are sealed under it. */
  readonly primaryKeyId: string
  readonly keyIds: readonly string[]
  seal (plain: string): string
  /** The clear text of a sealed value; a value that is not sealed is returned as it is. Throws when no key opens it. */
  open (value: string): string
  isSealed (value: string): boolean
  /** The id of the key that sealed `value`, or null when it is not sealed. */
  keyIdOf (value: string): string | null
  /** Whether this codec holds the key that sealed `value`. */
  canOpen (value: string): boolean
}

export function keyId (key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8)
}

/** @example const codec = createSecretCodec([randomBytes(32)]); codec.open(codec.seal('whsec_x')) // 'whsec_x' */
export function createSecretCodec (keys: readonly Buffer[]): SecretCodec {
  const first = keys[0]
  if (first === undefined) throw new TypeError('createSecretCodec needs at least one key')
  const byId = new Map(keys.map((key) => [keyId(key), key]))
  const primaryKeyId = keyId(first)
  const opened = new Map<string, string>()

  function keyIdOf (value: string): string | null {
    if (!value.startsWith(PREFIX)) return null
    const id = value.slice(PREFIX.length, PREFIX.length + 8)
    return /^[0-9a-f]{8}$/.test(id) && value[PREFIX.length + 8] === ':' ? id : null
  }

  return {
    primaryKeyId,
    keyIds: [...byId.keys()],
    seal (plain) {
      const nonce = randomBytes(NONCE_BYTES)
      const cipher = createCipheriv('aes-256-gcm', first, nonce)
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return `${PREFIX}${primaryKeyId}:${Buffer.concat([nonce, cipher.getAuthTag(), ciphertext]).toString('base64url')}`
    },
    open (value) {
      const id = keyIdOf(value)
      if (id === null) return value
      const cached = opened.get(value)
      if (cached !== undefined) return cached
      const key = byId.get(id)
      if (key === undefined) throw unopenable(1, [id])
      const raw = Buffer.from(value.slice(PREFIX.length + 9), 'base64url')
      let plain: string
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES))
        decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES))
        plain = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
      } catch {
        throw unopenable(1, [id])
      }
      if (opened.size >= OPEN_CACHE_SIZE) opened.clear()
      opened.set(value, plain)
      return plain
    },
    isSealed: (value) => keyIdOf(value) !== null,
    keyIdOf,
    canOpen (value) {
      const id = keyIdOf(value)
      return id !== null && byId.has(id)
    },
  }
}

/**
 * The start-up error when stored secrets were sealed under a key the service was not given:
 * `count` of them found, or 'all' when the store's key-check value (sealed with every key change)
 * says so before any is read.
 */
export function unopenable (count: number | 'all', keyIds: readonly string[]): ConfigError {
  const what = count === 'all' ? "this store's secrets" : `${count} stored secret${count === 1 ? '' : 's'}`
  return new ConfigError(
    `the encryption key cannot decrypt ${what} (sealed under key id ${[...new Set(keyIds)].join(', ')}); ` +
    'start with the KEJUE_ENCRYPTION_KEY (or <KEJUE_DATA_DIR>/encryption.key) they were written with, or list it after the new key')
}
