import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createEnvelope, MAX_NESTING_DEPTH, parseTimestamp } from './envelope.js'
import { samplePayload } from './samples.js'

function nested (depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true }
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

function codeAndPaths (fn: () => unknown): { code: unknown, paths: string[] } {
  try {
    fn()
  } catch (err) {
    const e = err as { code?: unknown, details?: { fields?: Array<{ path: string }> } }
    return { code: e.code, paths: (e.details?.fields ?? []).map((f) => f.path) }
  }
  assert.fail('expected a validation error')
}

test('impossible timestamps of a valid shape are a VALIDATION error on `timestamp`, never rolled over', () => {
  for (const bad of ['9999-99-99T99:99:99Z', '2025-01-01T25:00:00Z', '2025-02-30T10:00:00Z', '2025-13-01T00:00:00Z', '2025-04-31T00:00:00Z', '2025-01-01T10:60:00Z', '2025-01-01T10:00:00+24:00']) {
    assert.equal(parseTimestamp(bad), null, bad)
    const error = codeAndPaths(() => createEnvelope({ event: 'call.ended', workspaceId: 'ws_1', data: samplePayload('call.ended'), timestamp: bad }))
    assert.deepEqual(error, { code: 'VALIDATION', paths: ['timestamp'] }, bad)
  }
})

test('real timestamps keep their instant, leap days and zone offsets included', () => {
  assert.equal(parseTimestamp('2024-02-29T23:59:59Z')?.toISOString(), '2024-02-29T23:59:59.000Z')
  assert.equal(parseTimestamp('2025-01-15T10:30:00.123+02:00')?.toISOString(), '2025-01-15T08:30:00.123Z')
  assert.equal(parseTimestamp('2025-01-15T10:30Z')?.toISOString(), '2025-01-15T10:30:00.000Z')
  assert.equal(parseTimestamp('2023-02-29T00:00:00Z'), null)
})

test('data or metadata nested deeper than the limit is a VALIDATION error naming the field', () => {
  const deep = nested(4_500)
  assert.deepEqual(codeAndPaths(() => createEnvelope({ event: 'call.ended', workspaceId: 'ws_1', data: { ...samplePayload('call.ended'), extra: deep } })),
    { code: 'VALIDATION', paths: ['data'] })
  assert.deepEqual(codeAndPaths(() => createEnvelope({ event: 'call.ended', workspaceId: 'ws_1', data: samplePayload('call.ended'), metadata: { deep } })),
    { code: 'VALIDATION', paths: ['metadata'] })
  const atLimit = nested(MAX_NESTING_DEPTH - 2)
  assert.doesNotThrow(() => createEnvelope({ event: 'call.ended', workspaceId: 'ws_1', data: samplePayload('call.ended'), metadata: { atLimit } }))
})
