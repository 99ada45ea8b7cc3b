import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashKey } from '../../src/api/auth.js'
import { banner, firstStartElsewhere, markKeysShown, prepareFirstStart } from '../../src/cli/first-start.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/store.js'

async function withStore (fn: (store: Store) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kejue-first-'))
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  try {
    await fn(store)
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

test('first start makes a default workspace, its key and an admin key, printed once', async () => {
  await withStore(async (store) => {
    const keys = await prepareFirstStart(store, { adminKey: null })
    assert.ok(keys !== null)
    assert.match(keys.adminKey ?? '', /^ka_/)
    assert.match(keys.workspaceKey, /^kw_/)
    assert.equal((await store.findApiKeyByHash(hashKey(keys.workspaceKey)))?.workspaceId, keys.workspace.id)
    assert.equal((await store.findApiKeyByHash(hashKey(keys.adminKey ?? '')))?.workspaceId, null)
    const text = banner('http://127.0.0.1:8080', keys)
    assert.ok(text.includes(keys.workspaceKey) && text.includes(keys.adminKey ?? '-') && text.includes(keys.workspace.id))
    assert.match(text, /curl -H 'X-API-Key: kw_/)

    await markKeysShown(store)
    assert.equal(await prepareFirstStart(store, { adminKey: null }), null, 'later starts print no keys')
    assert.ok(!banner('http://127.0.0.1:8080', null).includes('kw_'))
    assert.equal((await store.listWorkspaces()).length, 1)
  })
})

test('a start that died before printing makes fresh keys and revokes the unprinted ones', async () => {
  await withStore(async (store) => {
    const lost = await prepareFirstStart(store, { adminKey: null })
    assert.ok(lost !== null)
    // Its claim on the first start goes stale after 30 s (a start prints within seconds).
    const again = await prepareFirstStart(store, { adminKey: null }, new Date(Date.now() + 31_000))
    assert.ok(again !== null)
    assert.equal(again.workspace.id, lost.workspace.id, 'the same default workspace')
    assert.notEqual(again.workspaceKey, lost.workspaceKey)
    assert.equal(await store.findApiKeyByHash(hashKey(lost.workspaceKey)), null)
    assert.equal(await store.findApiKeyByHash(hashKey(lost.adminKey ?? '')), null)
    assert.ok(await store.findApiKeyByHash(hashKey(again.workspaceKey)) !== null)
  })
})

test('of processes starting at once, one makes and prints the keys, and they keep working', async () => {
  const given = 'operator-chosen-admin-key-2'
  await withStore(async (store) => {
    const starts = await Promise.all([1, 2, 3].map(async () => await prepareFirstStart(store, { adminKey: given })))
    const printed = starts.filter((keys) => keys !== null)
    assert.equal(printed.length, 1, 'one start prints keys')
    const [keys] = printed
    assert.ok(keys !== undefined)
    assert.ok(await store.findApiKeyByHash(hashKey(keys.workspaceKey)) !== null, 'the printed workspace key works')
    assert.ok(await store.findApiKeyByHash(hashKey(given)) !== null, 'the operator admin key, stored once')
    assert.equal((await store.listWorkspaces()).length, 1)
    // Another start while it is still starting prints no keys, revokes nothing, and says where to look.
    assert.equal(await prepareFirstStart(store, { adminKey: given }), null)
    assert.ok(await store.findApiKeyByHash(hashKey(keys.workspaceKey)) !== null)
    assert.equal(await firstStartElsewhere(store), true)
    assert.match(banner('http://127.0.0.1:8080', null, true), /another process that started at the same time prints the admin and workspace keys/)
    await markKeysShown(store)
    assert.equal(await firstStartElsewhere(store), false, 'once shown, later starts say nothing')
  })
})

test('a start that fails while making the keys hands its claim back: the next start, at once, makes them', async () => {
  await withStore(async (store) => {
    let failNext = true
    // The real store, with one write failing (a database gone for a moment).
    const flaky: Store = { ...store, createApiKey: async (key) => {
      if (failNext) {
        failNext = false
        throw new Error('store unreachable')
      }
      await store.createApiKey(key)
    } }
    await assert.rejects(prepareFirstStart(flaky, { adminKey: null }), /store unreachable/)
    const keys = await prepareFirstStart(store, { adminKey: null })
    assert.ok(keys !== null, 'not left waiting for a stale claim')
    assert.ok(await store.findApiKeyByHash(hashKey(keys.workspaceKey)) !== null)
  })
})

test('KEJUE_ADMIN_KEY is stored as a hash and never printed; a changed one replaces the old', async () => {
  await withStore(async (store) => {
    const given = 'operator-chosen-admin-key-1'
    const keys = await prepareFirstStart(store, { adminKey: given })
    assert.ok(keys !== null)
    assert.equal(keys.adminKey, null)
    assert.ok(!banner('http://x', keys).includes(given))
    await markKeysShown(store)
    assert.equal((await store.findApiKeyByHash(hashKey(given)))?.workspaceId, null)
    await prepareFirstStart(store, { adminKey: 'operator-chosen-admin-key-2' })
    assert.equal(await store.findApiKeyByHash(hashKey(given)), null, 'the old operator key is revoked')
    assert.ok(await store.findApiKeyByHash(hashKey('operator-chosen-admin-key-2')) !== null)
  })
})
