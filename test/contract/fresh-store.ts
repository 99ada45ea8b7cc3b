import { test } from 'node:test'
import type { Store } from '../../src/store/store.js'

export interface StoreUnderTest {
  store: Store
  /** Closes the store and removes what it made (file, schema). */
  cleanup: () => Promise<void>
}

/** A node:test `test` that hands each case a fresh store from `makeStore` and cleans it up after. */
export function storeTest (makeStore: () => Promise<StoreUnderTest>): (title: string, fn: (store: Store) => Promise<void>) => void {
  return (title, fn) => {
    test(title, async () => {
      const { store, cleanup } = await makeStore()
      try {
        await fn(store)
      } finally {
        await cleanup()
      }
    })
  }
}
