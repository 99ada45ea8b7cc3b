/**
 * The routing cache (docs/storage.md, "Routing cache"): the store's routing candidates
 * (Store.routeWebhooks) kept in memory per workspace, filters and persona, and used while the
 * workspace's routes version (read with the event's call, Store.routingState) holds still.
 * Triggers move the version in the statement that changes a webhook, whichever process writes
 * it, so a cached answer is never used after a change is committed: an event costs one key
 * lookup instead of reading its webhooks (and opening their secrets) again. The health counters
 * settling updates all the time do not move it; nothing an event is routed or gated by is among
 * them.
 *
 * The version is read before the candidates, so an answer stored under a version is at least that
 * new. Cached webhooks are shared by every event they route, so they are frozen.
 */
import type { Store, Webhook } from '../store/store.js'

/** Answers kept per store, and webhooks in them all; the oldest stored goes first beyond either. */
export const ROUTE_CACHE_ENTRIES = 4_096
export const ROUTE_CACHE_WEBHOOKS = 20_000

interface Entry { version: number, webhooks: readonly Webhook[] }
interface Cache { entries: Map<string, Entry>, webhooks: number }

const caches = new WeakMap<Store, Cache>()

/**
 * Store.routeWebhooks, from memory while the workspace's webhooks have not changed: `version` is
 * the workspace's routes version, read before this call (Store.routingState).
 */
export async function routeCandidates (
  store: Store, workspaceId: string, filters: readonly string[], personaId: string | null, version: number,
): Promise<readonly Webhook[]> {
  let cache = caches.get(store)
  if (cache === undefined) {
    cache = { entries: new Map(), webhooks: 0 }
    caches.set(store, cache)
  }
  const { entries } = cache
  // Ids and types hold no U+0000 (the API refuses it), so the key is unambiguous.
  const key = `${workspaceId}\0${personaId ?? ''}\0${filters.join('\0')}`
  const entry = entries.get(key)
  if (entry !== undefined && entry.version === version) return entry.webhooks
  const webhooks = Object.freeze((await store.routeWebhooks(workspaceId, filters, personaId)).map((webhook) => Object.freeze(webhook)))
  const replaced = entries.get(key)
  if (replaced !== undefined) {
    entries.delete(key)
    cache.webhooks -= replaced.webhooks.length
  }
  entries.set(key, { version, webhooks })
  cache.webhooks += webhooks.length
  for (const [oldKey, old] of entries) {
    if (entries.size <= ROUTE_CACHE_ENTRIES && cache.webhooks <= ROUTE_CACHE_WEBHOOKS) break
    entries.delete(oldKey)
    cache.webhooks -= old.webhooks.length
  }
  return webhooks
}
