import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ROUTE_CACHE_ENTRIES, ROUTE_CACHE_WEBHOOKS, routeCandidates } from './route-cache.js'
import type { Store, Webhook } from '../store/store.js'

/** Only the read the cache makes, counted; each answer has `perAnswer` webhooks. */
function readsOnly (perAnswer: number): { store: Store, reads: () => number, version: () => number, bump: () => void } {
  let reads = 0
  let version = 1
  const store = {
    routeWebhooks: async (workspaceId: string) => {
      reads++
      return Array.from({ length: perAnswer }, (_, i) => ({ id: `wh_${i}`, workspaceId }) as unknown as Webhook)
    },
  } as unknown as Store
  return { store, reads: () => reads, version: () => version, bump: () => { version++ } }
}

test('the routing cache answers from memory until the version moves, frozen', async () => {
  const { store, reads, version, bump } = readsOnly(2)
  const first = await routeCandidates(store, 'ws_a', ['call.started', '*'], null, version())
  assert.equal(await routeCandidates(store, 'ws_a', ['call.started', '*'], null, version()), first)
  assert.equal(reads(), 1)
  assert.throws(() => { (first[0] as { url?: string }).url = 'x' }, TypeError)
  await routeCandidates(store, 'ws_a', ['call.started', '*'], 'per_1', version())
  assert.equal(reads(), 2, 'another persona is another answer')
  bump()
  await routeCandidates(store, 'ws_a', ['call.started', '*'], null, version())
  assert.equal(reads(), 3)
})

test('the routing cache keeps at most its entries and its webhooks, dropping the oldest', async () => {
  const many = readsOnly(1)
  for (let i = 0; i <= ROUTE_CACHE_ENTRIES; i++) await routeCandidates(many.store, 'ws_a', ['*'], `per_${i}`, many.version())
  const before = many.reads()
  await routeCandidates(many.store, 'ws_a', ['*'], `per_${ROUTE_CACHE_ENTRIES}`, many.version())
  assert.equal(many.reads(), before, 'the newest is kept')
  await routeCandidates(many.store, 'ws_a', ['*'], 'per_0', many.version())
  assert.equal(many.reads(), before + 1, 'the oldest went')

  const big = readsOnly(ROUTE_CACHE_WEBHOOKS / 4)
  for (let i = 0; i < 5; i++) await routeCandidates(big.store, 'ws_a', ['*'], `per_${i}`, big.version())
  await routeCandidates(big.store, 'ws_a', ['*'], 'per_4', big.version())
  assert.equal(big.reads(), 5, 'the newest is kept')
  await routeCandidates(big.store, 'ws_a', ['*'], 'per_0', big.version())
  assert.equal(big.reads(), 6, 'past the webhook bound the oldest went')
})
