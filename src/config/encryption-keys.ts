/**
 * KEJUE_ENCRYPTION_KEY's syntax (docs/configuration.md): one or more 32-byte keys, each as 64 hex
 * digits or base64 (standard or URL-safe), separated by commas. The first encrypts; every key
 * decrypts, so keys can be rotated (docs/storage.md, "Encryption at rest"). Messages never echo a key.
 */
import { Buffer } from 'node:buffer'

/** AES-256 keys are 32 bytes. */
export const ENCRYPTION_KEY_BYTES = 32

/** One key's text → its 32 bytes, or null when it is neither 64 hex digits nor base64 of 32 bytes. */
export function decodeEncryptionKey (text: string): Buffer | null {
  const trimmed = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex')
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  return bytes.length === ENCRYPTION_KEY_BYTES ? bytes : null
}

/** The keys of a comma-separated list, first (the encrypting one) first; throws naming the bad position. */
export function decodeEncryptionKeys (text: string): Buffer[] {
  const parts = text.split(',').map((part) => part.trim()).filter((part) => part !== '')
  if (parts.length === 0) throw new Error('holds no key')
  return parts.map((part, index) => {
    const key = decodeEncryptionKey(part)
    if (key === null) throw new Error(`key ${index + 1} is not 32 bytes as 64 hex digits or base64`)
    return key
  })
}
