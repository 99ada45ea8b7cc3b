/**
 * `kejue-webhooks reencrypt`: after a new key was put first in KEJUE_ENCRYPTION_KEY (the old one
 * listed after it), seal every stored secret under the new key; the old key can then be dropped
 * (docs/storage.md, "Encryption at rest"). Safe while the service runs and safe to run twice.
 */
import type { Command } from 'commander'
import { coerceError } from '../../errors.js'
import { reencryptSecrets } from '../../store/open-store.js'
import { loadConfigOrReport } from './serve.js'

export function registerReencrypt (program: Command): void {
  program
    .command('reencrypt')
    .description('encrypt every stored webhook secret again under the first key of KEJUE_ENCRYPTION_KEY')
    .option('--data-dir <dir>', 'directory of the embedded SQLite store and the key file (KEJUE_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… for PostgreSQL (KEJUE_DATABASE_URL or DATABASE_URL)')
    .action(async (flags: { dataDir?: string, databaseUrl?: string }) => {
      const config = loadConfigOrReport({ ...flags })
      if (config === null) {
        process.exitCode = 1
        return
      }
      try {
        const scan = await reencryptSecrets({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, databaseQueryTimeoutMs: config.databaseQueryTimeoutMs, encryptionKey: config.encryptionKey })
        process.stdout.write(`re-encrypted ${scan.rewritten} of ${scan.scanned} webhooks' secrets under the first key\n`)
      } catch (err) {
        const error = coerceError(err) as Error & { code?: string }
        if (error.code !== 'CONFIG_INVALID') throw err
        process.stderr.write(`kejue-webhooks: ${error.message}\n`)
        process.exitCode = 1
      }
    })
}
