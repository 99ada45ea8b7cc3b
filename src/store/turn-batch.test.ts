import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTurnBatch } from './turn-batch.js'

test('reads of one turn share one load, equal keys asked once; the next turn loads again', async () => {
  const loads: string[][] = []
  const read = createTurnBatch((key: string) => key, async (keys) => {
    loads.push([...keys])
    return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, `value of ${k}`]))
  })
  const answers = await Promise.all([read('a'), read('b'), read('a'), read('missing')])
  assert.deepEqual(answers, ['value of a', 'value of b', 'value of a', undefined])
  assert.deepEqual(loads, [['a', 'b', 'missing']])
  assert.equal(await read('a'), 'value of a')
  assert.deepEqual(loads, [['a', 'b', 'missing'], ['a']], 'nothing is kept between turns')
})

test('when a batch fails, each key is read again alone: a bad key fails only its own readers', async () => {
  const loads: string[][] = []
  const read = createTurnBatch((key: string) => key, async (keys) => {
    loads.push([...keys])
    if (keys.includes('bad')) throw new Error('invalid byte sequence')
    return new Map(keys.map((k) => [k, k.toUpperCase()]))
  })
  const results = await Promise.allSettled([read('a'), read('bad'), read('b'), read('bad')])
  assert.deepEqual(results.map((r) => r.status === 'fulfilled' ? r.value : (r.reason as Error).message),
    ['A', 'invalid byte sequence', 'B', 'invalid byte sequence'])
  assert.deepEqual(loads, [['a', 'bad', 'b'], ['a'], ['bad'], ['b']])
})

test('a failing load fails every read of its batch with its error, and the next batch runs', async () => {
  let fail = true
  const read = createTurnBatch((key: string) => key, async (keys) => {
    if (fail) throw new Error('store unavailable')
    return new Map(keys.map((k) => [k, k.length]))
  })
  const results = await Promise.allSettled([read('a'), read('bb')])
  assert.deepEqual(results.map((r) => r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled'), ['store unavailable', 'store unavailable'])
  fail = false
  assert.deepEqual(await Promise.all([read('a'), read('bb')]), [1, 2])
})

test('without retryAlone a failing batch fails its readers with its error, each key not read again', async () => {
  const loads: string[][] = []
  const read = createTurnBatch((key: string) => key, async (keys) => {
    loads.push([...keys])
    throw new Error('database is locked')
  }, { retryAlone: false })
  const results = await Promise.allSettled([read('a'), read('b'), read('a')])
  assert.deepEqual(results.map((r) => r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled'), ['database is locked', 'database is locked', 'database is locked'])
  assert.deepEqual(loads, [['a', 'b']])
})
