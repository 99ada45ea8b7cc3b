/** `kejue-webhooks migrate`: open the store (which applies pending migrations) and close it. */
import type { Command } from 'commander'
import { loadConfigOrReport, openStoreOrReport } from './serve.js'

export function registerMigrate (program: Command): void {
  program
    .command('migrate')
    .description('apply pending store migrations and exit')
    .option('--data-dir <dir>', 'directory of the embedded SQLite store (KEJUE_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… to migrate PostgreSQL (KEJUE_DATABASE_URL or DATABASE_URL)')
    .action(async (flags: { dataDir?: string, databaseUrl?: string }) => {
      const config = loadConfigOrReport({ ...flags })
      if (config === null) {
        process.exitCode = 1
        return
      }
      const store = await openStoreOrReport(config)
      if (store === null) {
        process.exitCode = 1
        return
      }
      await store.close()
      process.stdout.write(`migrations applied (${store.driver})\n`)
    })
}
