import { test } from 'node:test'
import assert from 'node:assert/strict'
import { newId, ulid } from './ids.js'

test('ids carry their prefix and sort by creation time', () => {
  const ids = Array.from({ length: 1000 }, () => newId('evt'))
  assert.ok(ids.every((id) => /^evt_[0-9A-HJKMNP-TV-Z]{26}$/.test(id)))
  assert.deepEqual([...ids].sort(), ids)
  assert.equal(new Set(ids).size, ids.length)
})

test('the time part of an id is its creation time in milliseconds', () => {
  const id = ulid(Date.now() + 60_000)
  const decoded = [...id.slice(0, 10)].reduce((acc, ch) => acc * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(ch), 0)
  assert.ok(Math.abs(decoded - (Date.now() + 60_000)) < 1000)
})
