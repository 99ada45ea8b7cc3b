import { randomBytes } from 'node:crypto'

/**
 * Type-prefixed, time-sortable ids (`evt_01JH…`): a ULID (48-bit millisecond time + 80 random
 * bits, Crockford base32) behind a prefix. Ids made in the same millisecond by one process stay
 * in order because the random part is incremented instead of redrawn (ULID's monotonic mode).
 */
export type IdPrefix = 'evt' | 'ws' | 'wh' | 'dlv' | 'att' | 'key' | 'job' | 'camp' | 'ct' | 'conv' | 'cls' | 'era' | 'ps'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

let lastTime = -1
let lastRandom: Uint8Array = new Uint8Array(10)

// Random bytes are drawn 4 KiB at a time: one call into the CSPRNG per ~400 ids, not per id
// (the ids of a busy service are made in a new millisecond often enough for it to show).
const POOL_BYTES = 4_096
let pool = new Uint8Array(0)
let poolAt = 0

function random10 (): Uint8Array {
  if (poolAt + 10 > pool.length) {
    pool = new Uint8Array(randomBytes(POOL_BYTES))
    poolAt = 0
  }
  poolAt += 10
  return pool.slice(poolAt - 10, poolAt)
}

function encodeTime (ms: number): string {
  let out = ''
  let rest = ms
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out
    rest = Math.floor(rest / 32)
  }
  return out
}

function encodeRandom (bytes: Uint8Array): string {
  // 80 bits → 16 base32 characters, most significant first.
  let out = ''
  let acc = 0
  let bits = 0
  for (const byte of bytes) {
    acc = (acc << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(acc >> bits) & 31]
    }
    acc &= (1 << bits) - 1
  }
  return out
}

function increment (bytes: Uint8Array): Uint8Array {
  const next = Uint8Array.from(bytes)
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] === 255) {
      next[i] = 0
      continue
    }
    next[i] = (next[i] ?? 0) + 1
    break
  }
  return next
}

/** A new ULID string (26 characters), monotonic within this process. */
export function ulid (now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom)
  } else {
    lastTime = now
    lastRandom = random10()
  }
  return encodeTime(lastTime) + encodeRandom(lastRandom)
}

/** @example newId('evt') // 'evt_01JH8Z3K6Q9W2M4T7V5X0Y1B3C' */
export function newId (prefix: IdPrefix, now?: number): string {
  return `${prefix}_${ulid(now)}`
}

/**
 * The smallest id of `prefix` made at or after `ms` (ids sort by their time part): a key-range
 * bound for "created since" lookups on time-sortable ids.
 */
export function idTimeBound (prefix: IdPrefix, ms: number): string {
  return `${prefix}_${encodeTime(Math.max(0, Math.floor(ms)))}`
}

/** A random secret token (URL-safe base64) behind a prefix, e.g. `whsec_…` or `kw_…`. */
export function newToken (prefix: string, bytes = 24): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`
}
