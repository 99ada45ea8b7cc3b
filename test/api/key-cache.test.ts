/**
 * The API key cache (src/api/auth.ts, docs/api.md): found keys are trusted for KEY_CACHE_TTL_MS;
 * a revoke through this process's API takes effect at once, one made elsewhere within the TTL;
 * keys that were not found are never cached.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAuthenticator, KEY_CACHE_TTL_MS, makeApiKey } from '../../src/api/auth.js'
import { ServiceError } from '../../src/errors.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { createHarness } from './harness.js'

test('a key revoked through the API is refused at once, even right after it was used', async () => {
  const h = await createHarness()
  try {
    const made = await h.call('POST', `/api/v1/workspaces/${h.a.id}/keys`, undefined, h.adminKey)
    const key = made.json<{ id: string, api_key: string }>()
    // Used twice: the second answer comes from the cache.
    assert.equal((await h.call('GET', '/api/v1/webhooks', undefined, key.api_key)).statusCode, 200)
    assert.equal((await h.call('GET', '/api/v1/webhooks', undefined, key.api_key)).statusCode, 200)
    assert.equal((await h.call('DELETE', `/api/v1/workspaces/${h.a.id}/keys/${key.id}`, undefined, h.adminKey)).statusCode, 204)
    const refused = await h.call('GET', '/api/v1/webhooks', undefined, key.api_key)
    assert.equal(refused.statusCode, 401)
    assert.equal(refused.json<{ code: string }>().code, 'UNAUTHORIZED')
    assert.equal((await h.call('GET', '/api/v1/webhooks')).statusCode, 200, 'the workspace\'s other key still works')
  } finally {
    await h.close()
  }
})

async function isUnauthorized (promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise
    return false
  } catch (err) {
    return err instanceof ServiceError && err.code === 'UNAUTHORIZED'
  }
}

test('a key revoked by another process stops working here within the cache TTL; unknown keys are never cached', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kejue-keys-'))
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  try {
    await store.createWorkspace({ id: 'ws_cache', name: 'cache', createdAt: new Date() })
    let clock = 1_000_000
    const auth = createAuthenticator(store, { now: () => clock })
    const key = makeApiKey('ws_cache')
    await store.createApiKey(key.row)
    assert.equal(auth.authenticateCached(key.token), undefined, 'not cached before its first lookup')
    assert.deepEqual(await auth.authenticate(key.token), { kind: 'workspace', workspaceId: 'ws_cache', keyId: key.row.id })
    assert.deepEqual(auth.authenticateCached(key.token), { kind: 'workspace', workspaceId: 'ws_cache', keyId: key.row.id }, 'then answered without a promise')
    assert.throws(() => auth.authenticateCached(undefined), /missing API key/)

    // Revoked in the store only, as another process sharing it would.
    await store.revokeApiKey(key.row.id, new Date())
    clock += KEY_CACHE_TTL_MS - 1
    assert.equal((await auth.authenticate(key.token)).kind, 'workspace', 'still cached just inside the TTL')
    clock += 2
    assert.equal(auth.authenticateCached(key.token), undefined, 'the cache no longer answers once the TTL is over')
    assert.ok(await isUnauthorized(auth.authenticate(key.token)), 'refused once the TTL is over')

    // A miss is not remembered: a key created right after it works at once.
    const late = makeApiKey('ws_cache')
    assert.ok(await isUnauthorized(auth.authenticate(late.token)))
    await store.createApiKey(late.row)
    assert.equal((await auth.authenticate(late.token)).kind, 'workspace')

    // invalidate() drops every cached key.
    await store.revokeApiKey(late.row.id, new Date())
    auth.invalidate()
    assert.ok(await isUnauthorized(auth.authenticate(late.token)))
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
})
