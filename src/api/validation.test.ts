import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { describeSchema, fieldPath, toFieldErrors } from './validation.js'

test('JSON pointers become dotted field paths with [n] for array items', () => {
  assert.equal(fieldPath('/url'), 'url')
  assert.equal(fieldPath('/delivery_settings/timeout_ms'), 'delivery_settings.timeout_ms')
  assert.equal(fieldPath('/config/webhooks/0/url'), 'config.webhooks[0].url')
  assert.equal(fieldPath('/events/1'), 'events[1]')
  assert.equal(fieldPath('/a~1b'), 'a/b')
  assert.equal(fieldPath(''), '(body)')
  assert.equal(fieldPath('/url', 'config.webhooks[2].'), 'config.webhooks[2].url')
})

test('schemas are described in words a user can act on', () => {
  assert.equal(describeSchema(Type.Integer({ minimum: 1000, maximum: 30000 })), 'an integer from 1000 to 30000')
  assert.equal(describeSchema(Type.String({ minLength: 1, maxLength: 5 })), 'a string of 1–5 characters')
  assert.equal(describeSchema(Type.Union([Type.Literal('a'), Type.Literal('b')])), 'one of "a", "b"')
  assert.equal(describeSchema(Type.Union([Type.String(), Type.Null()])), 'a string or null')
  assert.equal(describeSchema(Type.Array(Type.String(), { minItems: 1 })), 'an array of at least 1 items (each a string)')
  assert.equal(describeSchema(Type.Union([Type.Array(Type.Integer({ minimum: 100, maximum: 200 }), { minItems: 1, maxItems: 20 }), Type.Null()])),
    'an array of 1–20 items (each an integer from 100 to 200) or null')
})

test('one field error per path: required, unknown and wrong-typed fields', () => {
  const schema = Type.Object({ url: Type.String(), n: Type.Integer({ minimum: 0, maximum: 10 }) }, { additionalProperties: false })
  const check = TypeCompiler.Compile(schema)
  const value = { n: 11, extra: true }
  const byPath = (a: { path: string }, b: { path: string }): number => a.path.localeCompare(b.path)
  assert.deepEqual(toFieldErrors(check.Errors(value)).sort(byPath), [
    { path: 'url', message: 'is required' },
    { path: 'n', message: 'must be an integer from 0 to 10' },
    { path: 'extra', message: 'is not a known field' },
  ].sort(byPath))
})
