/**
 * A small seeded random source for the simulator. mulberry32 is a 32-bit generator: fast, good
 * enough for drawing call outcomes, and the same sequence on every machine for the same seed, so a
 * campaign run with `seed` is reproducible.
 *
 * Each contact (and each attempt) draws from its own stream derived from the seed and a key, so
 * outcomes do not depend on the order in which timers happen to fire.
 */
export interface Random {
  /** A float in [0, 1). */
  next (): number
  /** An integer in [min, max], both included. */
  int (min: number, max: number): number
  /** One element of a non-empty list. */
  pick<T> (items: readonly T[]): T
}

export function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** FNV-1a over the seed and the keys: a stable 32-bit seed for one stream. */
export function deriveSeed (seed: number, ...keys: ReadonlyArray<string | number>): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0)
  for (const char of keys.join('\u0000')) {
    hash ^= char.codePointAt(0) ?? 0
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash >>> 0
}

export function createRandom (seed: number): Random {
  const next = mulberry32(seed)
  return {
    next,
    int (min, max) {
      return min + Math.floor(next() * (max - min + 1))
    },
    pick (items) {
      const item = items[Math.floor(next() * items.length)]
      if (item === undefined) throw new RangeError('pick from an empty list')
      return item
    },
  }
}

/** A stream for one key under a seed: `randomFor(seed, 'camp_1', 7, 2)`. */
export function randomFor (seed: number, ...keys: ReadonlyArray<string | number>): Random {
  return createRandom(deriveSeed(seed, ...keys))
}

/**
 * Picks a key with probability proportional to its weight. Weights need not sum to 1; zero
 * weights are never picked.
 */
export function pickWeighted<K extends string> (random: Random, weights: Readonly<Record<K, number>>): K {
  const entries = Object.entries(weights) as Array<[K, number]>
  const total = entries.reduce((sum, [, weight]) => sum + Math.max(0, weight), 0)
  if (!(total > 0)) throw new RangeError('weights must have a positive sum')
  let roll = random.next() * total
  for (const [key, weight] of entries) {
    if (weight <= 0) continue
    roll -= weight
    if (roll < 0) return key
  }
  // Float rounding can leave roll at 0 after the last entry: the last positive weight wins.
  const last = entries.filter(([, weight]) => weight > 0).at(-1)
  if (last === undefined) throw new RangeError('weights must have a positive sum')
  return last[0]
}
