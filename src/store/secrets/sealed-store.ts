/**
 * The codec as a layer around any Store (docs/storage.md, "Encryption at rest"): secret fields
 * (sealed-fields.ts) are sealed in every argument on the way in and opened in every result on the
 * way out, whatever the method. Drivers store and return the sealed text and never see a key;
 * a Store method added later that takes or returns webhooks is covered without a change here.
 */
import type { Store } from '../store.js'
import type { SecretCodec } from './secret-codec.js'
import { hasSealedFields, openFields, sealFields } from './sealed-fields.js'

// The codec's own maintenance reads and writes the stored form as it is.
const RAW_METHODS = new Set(['listStoredSecrets', 'rewriteStoredSecrets'])
// Per-event methods whose arguments and results never hold a webhook (so no secret field): they
// skip the walk, which cost ~2 % of an event's CPU. A method not named here is walked, so one
// added later is covered without a change here.
const NO_WEBHOOKS = new Set(['recordEvent', 'routingState', 'renewLeases', 'releaseLeases', 'reserveSendSlots', 'nextDueAt'])
// Per-event methods whose arguments never hold a webhook but whose results may: only the result
// is walked (a batch of attempt results, each a few objects deep, walked for nothing).
const NO_WEBHOOK_ARGUMENTS = new Set(['completeAttempts'])
// Webhooks sit at most this deep in arguments and results (a page → data → claim → webhook).
const MAX_DEPTH = 4

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** Applies `fn` to every webhook-shaped plain object inside `value` (arrays, Maps, plain objects). */
function transform (value: unknown, fn: <T extends object>(v: T) => T, depth = 0): unknown {
  if (depth > MAX_DEPTH) return value
  if (Array.isArray(value)) return value.map((item: unknown) => transform(item, fn, depth + 1))
  if (value instanceof Map) {
    return new Map([...(value as Map<unknown, unknown>)].map(([k, v]) => [k, transform(v, fn, depth + 1)]))
  }
  if (!isPlainObject(value)) return value
  if (hasSealedFields(value)) return fn(value)
  let out: Record<string, unknown> | null = null
  for (const [key, inner] of Object.entries(value)) {
    const next = transform(inner, fn, depth + 1)
    if (next === inner) continue
    out ??= { ...value }
    out[key] = next
  }
  return out ?? value
}

/** `store` with secret fields sealed at rest under `codec`. */
export function sealSecrets (store: Store, codec: SecretCodec): Store {
  const seal = <T extends object>(v: T): T => sealFields(codec, v)
  const open = <T extends object>(v: T): T => openFields(codec, v)
  const wrapped: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function' || RAW_METHODS.has(name) || NO_WEBHOOKS.has(name) || name === 'onWork') {
      wrapped[name] = member
      continue
    }
    const method = member as (...args: unknown[]) => unknown
    const sealArguments = !NO_WEBHOOK_ARGUMENTS.has(name)
    wrapped[name] = (...args: unknown[]): unknown => {
      const result = method.apply(store, sealArguments ? args.map((arg) => transform(arg, seal)) : args)
      return result instanceof Promise ? result.then((value: unknown) => transform(value, open)) : transform(result, open)
    }
  }
  return wrapped as unknown as Store
}
