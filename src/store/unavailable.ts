/**
 * One place where a driver's "cannot reach or write the database" errors become 503
 * STORE_UNAVAILABLE (docs/storage.md): each driver says which of its errors mean that, and
 * `guardStore` translates them for every method of its Store, present and future.
 */
import { ServiceError, storeUnavailable } from '../errors.js'
import type { Store } from './store.js'

/** Leaves ServiceErrors and other errors alone; turns an outage into STORE_UNAVAILABLE. */
export function translateStoreError (err: unknown, isOutage: (err: unknown) => boolean): unknown {
  if (err instanceof ServiceError) return err
  return isOutage(err) ? storeUnavailable(err) : err
}

/** The same store, whose methods reject with STORE_UNAVAILABLE where `isOutage` says so. */
export function guardStore (store: Store, isOutage: (err: unknown) => boolean): Store {
  const guarded: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== 'function') {
      guarded[name] = value
      continue
    }
    const method = value as (...args: unknown[]) => unknown
    guarded[name] = (...args: unknown[]): unknown => {
      let result: unknown
      try {
        result = method.apply(store, args)
      } catch (err) {
        throw translateStoreError(err, isOutage)
      }
      if (!(result instanceof Promise)) return result
      return result.catch((err: unknown) => { throw translateStoreError(err, isOutage) })
    }
  }
  return guarded as unknown as Store
}
