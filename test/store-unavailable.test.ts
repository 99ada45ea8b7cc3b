import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ServiceError } from '../src/errors.js'
import { isPostgresOutage } from '../src/store/postgres/pg-errors.js'
import { isSqliteOutage } from '../src/store/sqlite/sqlite-errors.js'
import type { Store } from '../src/store/store.js'
import { guardStore } from '../src/store/unavailable.js'

function coded (code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code })
}

test('PostgreSQL outages: lost, refused or read-only connections; not bad queries', () => {
  for (const err of [coded('57P01', 'terminating connection due to administrator command'), coded('57P03'), coded('08006'),
    coded('ECONNREFUSED'), coded('53300'), coded('25006'), coded('55000', 'database "x" is not currently accepting connections'),
    new Error('Connection terminated unexpectedly'), new Error('timeout exceeded when trying to connect'),
    new AggregateError([coded('ECONNREFUSED')])]) {
    assert.equal(isPostgresOutage(err), true, err.message)
  }
  for (const err of [coded('23505'), coded('42P01'), coded('22P02'), coded('55000', 'cannot do that now'), new Error('boom'), null, 'text']) {
    assert.equal(isPostgresOutage(err), false, String(err))
  }
})

test('SQLite outages: full, I/O, read-only, busy; not constraints', () => {
  for (const code of ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY_DBMOVED', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_CANTOPEN']) {
    assert.equal(isSqliteOutage(coded(code)), true, code)
  }
  for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_CORRUPT', 'SQLITE_FULLX']) {
    assert.equal(isSqliteOutage(coded(code)), false, code)
  }
})

test('guardStore turns outages into 503 STORE_UNAVAILABLE and leaves everything else alone', async () => {
  const conflict = new ServiceError('CONFLICT', 'exists')
  const fake = {
    driver: 'sqlite',
    ping: async () => { throw coded('SQLITE_FULL', 'database or disk is full') },
    getWorkspace: async () => { throw coded('SQLITE_ERROR', 'no such table') },
    createWorkspace: async () => { throw conflict },
    onWork: () => () => {},
    getSetting: async () => 'kept',
  } as unknown as Store
  const store = guardStore(fake, isSqliteOutage)
  await assert.rejects(store.ping(), (err: unknown) => {
    assert.ok(err instanceof ServiceError)
    assert.equal(err.code, 'STORE_UNAVAILABLE')
    assert.equal(err.statusCode, 503)
    assert.doesNotMatch(err.message, /disk is full/, 'the cause stays in the log')
    return true
  })
  await assert.rejects(store.getWorkspace('ws_x'), /no such table/)
  await assert.rejects(store.createWorkspace({} as never), (err) => err === conflict)
  assert.equal(await store.getSetting('k'), 'kept')
  assert.equal(typeof store.onWork(() => {}), 'function')
  assert.equal(store.driver, 'sqlite')
})
