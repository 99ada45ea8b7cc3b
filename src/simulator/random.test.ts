import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRandom, mulberry32, pickWeighted, randomFor } from './random.js'

test('mulberry32 gives the same sequence for the same seed, within [0, 1)', () => {
  const a = mulberry32(123)
  const b = mulberry32(123)
  const values = Array.from({ length: 1000 }, () => a())
  assert.deepEqual(values, Array.from({ length: 1000 }, () => b()))
  assert.ok(values.every((v) => v >= 0 && v < 1))
  assert.notDeepEqual(values.slice(0, 10), Array.from({ length: 10 }, mulberry32(124)))
})

test('int stays within its bounds and reaches both', () => {
  const random = createRandom(9)
  const seen = new Set(Array.from({ length: 500 }, () => random.int(3, 6)))
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6])
})

test('pickWeighted never picks a zero weight and refuses an all-zero table', () => {
  const random = randomFor(1, 'k')
  for (let i = 0; i < 500; i++) assert.notEqual(pickWeighted(random, { a: 1, b: 0, c: 2 }), 'b')
  assert.throws(() => pickWeighted(random, { a: 0, b: 0 }), RangeError)
})

test('streams with different keys differ, the same key repeats', () => {
  assert.equal(randomFor(5, 'camp', 1).next(), randomFor(5, 'camp', 1).next())
  assert.notEqual(randomFor(5, 'camp', 1).next(), randomFor(5, 'camp', 2).next())
})
