import { test } from 'node:test'
import assert from 'node:assert/strict'
import { computeCampaignPerformance, percentOf } from './performance.js'

const SPEC_STATS = { total_contacts: 500, completed: 420, no_answer: 50, failed: 10, voicemail: 20 }

test('the spec example gives connect 84.0 %, completion 86.0 % and 120 s', () => {
  const durations = Array.from({ length: 420 }, (_, i) => (i % 2 === 0 ? 100 : 140))
  assert.deepEqual(computeCampaignPerformance(SPEC_STATS, durations), {
    connect_rate_percent: 84.0,
    completion_rate_percent: 86.0,
    average_call_duration_seconds: 120,
  })
})

test('a total and a call count give the same average as the list', () => {
  const perf = computeCampaignPerformance(SPEC_STATS, { totalSeconds: 420 * 120, calls: 420 })
  assert.equal(perf.average_call_duration_seconds, 120)
})

test('a campaign with no contacts and no calls has all zeros', () => {
  const empty = { total_contacts: 0, completed: 0, no_answer: 0, failed: 0, voicemail: 0 }
  assert.deepEqual(computeCampaignPerformance(empty, []), {
    connect_rate_percent: 0,
    completion_rate_percent: 0,
    average_call_duration_seconds: 0,
  })
  assert.equal(computeCampaignPerformance(empty, { totalSeconds: 0, calls: 0 }).average_call_duration_seconds, 0)
})

test('rates round to one decimal, half up', () => {
  assert.equal(percentOf(1, 3), 33.3)
  assert.equal(percentOf(2, 3), 66.7)
  assert.equal(percentOf(1681, 2000), 84.1) // 84.05 rounds up, despite float error in 1681 / 2000 * 100
  assert.equal(percentOf(1, 2000), 0.1) // 0.05 → 0.1
  assert.equal(percentOf(1, 3000), 0) // 0.033 → 0.0
})

test('a cancelled campaign counts contacts never dialled as neither connected nor complete', () => {
  const cancelled = { total_contacts: 1000, completed: 300, no_answer: 40, failed: 10, voicemail: 50 }
  const perf = computeCampaignPerformance(cancelled, [60, 90])
  assert.equal(perf.connect_rate_percent, 30)
  assert.equal(perf.completion_rate_percent, 31)
  assert.equal(perf.average_call_duration_seconds, 75)
})

test('every contact connected gives 100 %, and inconsistent counts are clamped to 100 %', () => {
  const all = { total_contacts: 10, completed: 10, no_answer: 0, failed: 0, voicemail: 0 }
  assert.equal(computeCampaignPerformance(all, [30]).connect_rate_percent, 100)
  const over = { total_contacts: 10, completed: 9, no_answer: 0, failed: 5, voicemail: 0 }
  assert.equal(computeCampaignPerformance(over, [30]).completion_rate_percent, 100)
})

test('the average rounds to whole seconds', () => {
  assert.equal(computeCampaignPerformance(SPEC_STATS, [10, 11]).average_call_duration_seconds, 11) // 10.5 → 11
  assert.equal(computeCampaignPerformance(SPEC_STATS, [10, 10, 11]).average_call_duration_seconds, 10) // 10.33 → 10
})

test('negative or non-finite durations and fractional call counts are refused', () => {
  for (const bad of [[-1], [Number.NaN], [Number.POSITIVE_INFINITY]]) {
    assert.throws(() => computeCampaignPerformance(SPEC_STATS, bad), { code: 'BAD_REQUEST', message: /durations\[0\]/ })
  }
  assert.throws(() => computeCampaignPerformance(SPEC_STATS, { totalSeconds: 10, calls: 1.5 }), { code: 'BAD_REQUEST', message: /calls/ })
  assert.throws(() => computeCampaignPerformance(SPEC_STATS, { totalSeconds: -5, calls: 1 }), { code: 'BAD_REQUEST', message: /totalSeconds/ })
})
