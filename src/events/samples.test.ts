import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EVENT_TYPES } from './event-types.js'
import { computeCampaignPerformance } from './performance.js'
import { samplePayload } from './samples.js'
import { validateEventData } from './validate.js'

for (const type of EVENT_TYPES) {
  test(`the ${type} sample validates against the catalog`, () => {
    const result = validateEventData(type, samplePayload(type))
    assert.deepEqual(result.ok ? [] : result.errors, [])
  })
}

test('samples are plain JSON: serializing and parsing gives the same value', () => {
  for (const type of EVENT_TYPES) {
    const data = samplePayload(type)
    assert.deepEqual(JSON.parse(JSON.stringify(data)), data, type)
  }
})

test('times in samples are relative to now, to the second', () => {
  const now = new Date('2025-01-15T10:30:00.456Z')
  const ended = samplePayload('call.ended', {}, now)
  assert.equal(ended.ended_at, '2025-01-15T10:30:00Z')
  assert.equal(ended.started_at, '2025-01-15T10:25:05Z') // 295 s earlier
  assert.equal(samplePayload('campaign.paused', {}, now).paused_at, '2025-01-15T10:30:00Z')
})

test('overrides merge into nested objects and replace arrays and scalars', () => {
  const data = samplePayload('call.ended', { status: 'no_answer', transcript: null, retry: { will_retry: true, next_retry_at: '2025-01-15T11:00:00Z' } })
  assert.equal(data.status, 'no_answer')
  assert.equal(data.transcript, null)
  assert.deepEqual(data.retry, { will_retry: true, next_retry_at: '2025-01-15T11:00:00Z', attempt_number: 1, max_attempts: 3 })
  const analyzed = samplePayload('call.analyzed', { in_call_tools: [{ name: 'book_meeting' }] })
  assert.deepEqual(analyzed.in_call_tools, [{ name: 'book_meeting' }])
})

test('an override named __proto__ stays a plain field and changes no prototype', () => {
  const overrides = JSON.parse('{"__proto__": {"polluted": true}, "retry": {"__proto__": {"x": 1}}}') as Record<string, unknown>
  const data = samplePayload('call.ended', overrides) as Record<string, unknown>
  assert.equal(Object.getPrototypeOf(data), Object.prototype)
  assert.equal((data as { polluted?: unknown }).polluted, undefined)
  assert.deepEqual(Object.getOwnPropertyDescriptor(data, '__proto__')?.value, { polluted: true })
  assert.equal(({} as { polluted?: unknown }).polluted, undefined)
})

test('samples are fresh objects: changing one does not change the next', () => {
  const first = samplePayload('campaign.ended')
  first.stats.completed = 0
  assert.equal(samplePayload('campaign.ended').stats.completed, 420)
})

test('the campaign.ended sample reports the spec\'s stats with matching performance', () => {
  const data = samplePayload('campaign.ended')
  assert.deepEqual(data.performance, computeCampaignPerformance(data.stats, { totalSeconds: 420 * 120, calls: 420 }))
  assert.equal(data.performance.connect_rate_percent, 84)
  assert.equal(data.performance.completion_rate_percent, 86)
})
