/**
 * Picks the store driver from the configuration (docs/configuration.md): a `postgres://` or
 * `postgresql://` database URL selects PostgreSQL; otherwise the embedded SQLite file
 * `<dataDir>/webhooks.db`. Either factory applies pending migrations before it returns.
 * Every store it opens keeps webhook secrets encrypted (docs/storage.md, "Encryption at rest"):
 * the key is loaded (or created) first, a key that cannot open the stored secrets stops here,
 * secrets stored in clear by an older release are sealed, and the data dir is made private.
 */
import { closeSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULTS } from '../config/defaults.js'
import { loadKeyring } from './secrets/keyring.js'
import { ensurePrivateDir } from './secrets/private-files.js'
import { createSecretCodec } from './secrets/secret-codec.js'
import type { SecretCodec } from './secrets/secret-codec.js'
import { sealSecrets } from './secrets/sealed-store.js'
import { reencryptStoredSecrets, upgradeStoredSecrets } from './secrets/secret-upgrade.js'
import type { SecretScan } from './secrets/secret-upgrade.js'
import type { Store } from './store.js'

export interface OpenStoreOptions {
  /** `KEJUE_DATABASE_URL`; unset or empty means SQLite. */
  databaseUrl?: string
  /** `KEJUE_DATA_DIR`, where the SQLite file lives. */
  dataDir: string
  /** PostgreSQL only: connections in the pool. @defaultValue 10 */
  poolSize?: number
  /** `KEJUE_COMMIT_GATHER_MS`: how long an event batch may wait for company (batch-gather.ts). @defaultValue 0 */
  commitGatherMs?: number
  /** PostgreSQL only, `KEJUE_DATABASE_QUERY_TIMEOUT_MS` (pool.ts). @defaultValue 15000 */
  databaseQueryTimeoutMs?: number
  /** `KEJUE_ENCRYPTION_KEY`; unset means `<dataDir>/encryption.key` (created when missing). */
  encryptionKey?: string | null
  /** Told when the key file is created or clear secrets were sealed. */
  logger?: { info (obj: object, msg: string): void }
}

export function isPostgresUrl (url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url)
}

export function sqlitePath (dataDir: string): string {
  return join(dataDir, DEFAULTS.store.sqliteFile)
}

// Each driver is imported only when chosen: a PostgreSQL deployment never loads better-sqlite3.
async function openSqliteStore (dataDir: string, commitGatherMs?: number): Promise<Store> {
  const { createSqliteStore } = await import('./sqlite/index.js')
  ensurePrivateDir(dataDir)
  const path = sqlitePath(dataDir)
  // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database's mode.
  closeSync(openSync(path, 'a', 0o600))
  const store = await createSqliteStore({ path, ...(commitGatherMs === undefined ? {} : { commitGatherMs }) })
  ensurePrivateDir(dataDir)
  return store
}

/** The driver the options select, without the secret codec. */
async function openDriver (options: OpenStoreOptions): Promise<Store> {
  if (isPostgresUrl(options.databaseUrl)) {
    const { createPostgresStore } = await import('./postgres/index.js')
    return await createPostgresStore({
      connectionString: options.databaseUrl,
      ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
      ...(options.commitGatherMs === undefined ? {} : { commitGatherMs: options.commitGatherMs }),
      ...(options.databaseQueryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.databaseQueryTimeoutMs }),
    })
  }
  return await openSqliteStore(options.dataDir, options.commitGatherMs)
}

function openCodec (options: OpenStoreOptions): SecretCodec {
  const keyring = loadKeyring({ encryptionKey: options.encryptionKey, dataDir: options.dataDir })
  if (keyring.created) {
    options.logger?.info({ path: keyring.source }, `created an encryption key for stored secrets in ${keyring.source}; back it up, and give every process sharing this store the same key (KEJUE_ENCRYPTION_KEY)`)
  }
  return createSecretCodec(keyring.keys)
}

/** Opens the raw driver, runs `fn` on it, and closes it again when `fn` throws. */
async function withDriver<T> (options: OpenStoreOptions, fn: (raw: Store, codec: SecretCodec) => Promise<T>): Promise<{ raw: Store, value: T }> {
  const codec = openCodec(options)
  const raw = await openDriver(options)
  try {
    return { raw, value: await fn(raw, codec) }
  } catch (err) {
    await raw.close().catch(() => undefined)
    throw err
  }
}

/** @example const store = await openStore({ databaseUrl: process.env.KEJUE_DATABASE_URL, dataDir: './data' }) */
export async function openStore (options: OpenStoreOptions): Promise<Store> {
  const { raw, value: codec } = await withDriver(options, async (driver, codec) => {
    const scan = await upgradeStoredSecrets(driver, codec)
    if (scan.rewritten > 0) options.logger?.info({ count: scan.rewritten }, 'encrypted webhook secrets stored in clear by an older release')
    return codec
  })
  return sealSecrets(raw, codec)
}

/**
 * `kejue-webhooks reencrypt`: seals every stored secret again under the first key of
 * KEJUE_ENCRYPTION_KEY, after which the other keys can be dropped.
 */
export async function reencryptSecrets (options: OpenStoreOptions): Promise<SecretScan> {
  const { raw, value } = await withDriver(options, async (driver, codec) => await reencryptStoredSecrets(driver, codec))
  await raw.close()
  return value
}

/**
 * Applies pending migrations and exits (`kejue-webhooks migrate`). Returns the versions applied
 * now when the driver reports them (PostgreSQL), else null.
 */
export async function migrateOnly (options: OpenStoreOptions): Promise<number[] | null> {
  if (isPostgresUrl(options.databaseUrl)) {
    const { migratePostgres } = await import('./postgres/index.js')
    return await migratePostgres({ connectionString: options.databaseUrl })
  }
  // The SQLite factory migrates on open.
  const store = await openSqliteStore(options.dataDir)
  await store.close()
  return null
}
