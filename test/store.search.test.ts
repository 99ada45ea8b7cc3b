/**
 * Delivery search, charts and portal sessions on both stores (test/contract/search.contract.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { searchContract } from './contract/search.contract.js'
import { makePostgresStore } from './helpers/postgres.js'

const root = mkdtempSync(join(tmpdir(), 'kejue-store-search-'))
let counter = 0
process.on('exit', () => rmSync(root, { recursive: true, force: true }))

searchContract('sqlite', async () => {
  const store = await createSqliteStore({ path: join(root, `s-${++counter}`, 'webhooks.db') })
  return { store, cleanup: async () => { await store.close() } }
})

searchContract('postgres', async () => {
  const { store, cleanup } = await makePostgresStore({ poolSize: 4 })
  return { store, cleanup }
})
