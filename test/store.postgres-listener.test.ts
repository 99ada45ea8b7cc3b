/**
 * The PostgreSQL store's LISTEN connection (src/store/postgres/work-listener.ts) only receives,
 * so a connection that goes silent — a host or network gone without a FIN — would never fail on
 * its own and other processes' work would reach this one only by polling. It asks the server
 * something every `pingMs`; without an answer within the query timeout it reconnects.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { resolvePostgresOptions } from '../src/store/postgres/pool.js'
import { createWorkAnnouncer, startWorkListener } from '../src/store/postgres/work-listener.js'
import { randomSchemaName, TEST_DATABASE_URL } from './helpers/postgres.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'
import { waitFor } from './helpers/wait-for.js'

test('postgres: a LISTEN connection that goes silent is replaced, and work announced after that wakes the store again', { timeout: 60_000 }, async () => {
  const url = new URL(TEST_DATABASE_URL)
  const proxy = await startTcpProxy(url.hostname, Number(url.port === '' ? 5432 : url.port))
  const viaProxy = new URL(TEST_DATABASE_URL)
  viaProxy.host = `127.0.0.1:${proxy.port}`
  // The payload names the schema; nothing needs to exist in it.
  const schema = randomSchemaName()
  const direct = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 })
  let notified = 0
  const listener = await startWorkListener(
    resolvePostgresOptions({ connectionString: viaProxy.toString(), schema, queryTimeoutMs: 1_000 }),
    () => { notified++ },
    200,
  )
  try {
    const announce = createWorkAnnouncer(direct, schema)
    announce()
    await waitFor('the first announcement heard', () => notified >= 1 ? true : null, 10_000)

    // The listener's connection falls silent for good; new connections get through again.
    proxy.silence()
    proxy.restore()
    const before = notified
    // A reconnect calls the listener once to cover what it may have missed.
    await waitFor('the silent LISTEN connection replaced', () => notified > before ? true : null, 30_000)
    const reconnected = notified
    announce()
    await waitFor('an announcement after the silence heard', () => notified > reconnected ? true : null, 10_000)
    assert.ok(notified > reconnected)
  } finally {
    await listener.close()
    await direct.end()
    await proxy.close()
  }
})
