/**
 * Where the encryption keys come from (docs/configuration.md, KEJUE_ENCRYPTION_KEY): the setting
 * when given, else `<dataDir>/encryption.key`, created with a random key (mode 0600) at first
 * start. Several processes sharing a PostgreSQL database must be given the same key; the key
 * check at start-up (secret-upgrade.ts) refuses a process that was not.
 */
import type { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { decodeEncryptionKeys, ENCRYPTION_KEY_BYTES } from '../../config/encryption-keys.js'
import { ConfigError } from '../../errors.js'
import { ensurePrivateDir } from './private-files.js'

export const KEY_FILE = 'encryption.key'

export interface Keyring {
  keys: Buffer[]
  /** 'setting' (KEJUE_ENCRYPTION_KEY) or the key file's path. */
  source: string
  /** True when this start created the key file. */
  created: boolean
}

export interface KeyringOptions {
  /** KEJUE_ENCRYPTION_KEY as given (already checked by the config), or null/undefined when unset. */
  encryptionKey?: string | null
  dataDir: string
}

function readKeyFile (path: string): Buffer[] {
  try {
    return decodeEncryptionKeys(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigError(`${path} ${err instanceof Error ? err.message : String(err)}; give KEJUE_ENCRYPTION_KEY or restore the file`)
  }
}

/** The keys to use, creating the key file when neither it nor the setting exists. */
export function loadKeyring (options: KeyringOptions): Keyring {
  const setting = options.encryptionKey?.trim() ?? ''
  if (setting !== '') {
    try {
      return { keys: decodeEncryptionKeys(setting), source: 'KEJUE_ENCRYPTION_KEY', created: false }
    } catch (err) {
      throw new ConfigError(`KEJUE_ENCRYPTION_KEY ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  ensurePrivateDir(options.dataDir)
  const path = join(options.dataDir, KEY_FILE)
  let fd: number
  try {
    // 'wx': exactly one of several processes starting at once creates it; the others read it.
    fd = openSync(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return { keys: readKeyFile(path), source: path, created: false }
  }
  try {
    writeSync(fd, `${randomBytes(ENCRYPTION_KEY_BYTES).toString('base64')}\n`)
  } finally {
    closeSync(fd)
  }
  return { keys: readKeyFile(path), source: path, created: true }
}
