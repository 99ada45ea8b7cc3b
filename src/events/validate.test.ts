import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FieldError } from '../errors.js'
import type { EventType } from './event-types.js'
import { samplePayload } from './samples.js'
import { validateEventData, validateEventType } from './validate.js'

/** The errors for `data`, failing the test when it validates. */
function errorsOf (type: EventType, data: unknown): FieldError[] {
  const result = validateEventData(type, data)
  assert.equal(result.ok, false, `expected ${type} data to be rejected`)
  return result.ok ? [] : result.errors
}

/** Removes a dotted path from a sample, e.g. `retry.attempt_number`. */
function without (type: EventType, dotted: string): Record<string, unknown> {
  const data = structuredClone(samplePayload(type, {}, new Date('2025-01-15T10:30:00Z'))) as Record<string, unknown>
  const keys = dotted.split('.')
  const last = keys.pop() ?? ''
  let target: Record<string, unknown> = data
  for (const key of keys) target = target[key] as Record<string, unknown>
  delete target[last]
  return data
}

function assertOneError (errors: FieldError[], path: string, message: string | RegExp): void {
  assert.equal(errors.length, 1, `one error expected, got ${JSON.stringify(errors)}`)
  assert.equal(errors[0]?.path, path)
  if (typeof message === 'string') assert.equal(errors[0]?.message, message)
  else assert.match(errors[0]?.message ?? '', message)
}

/** One broken payload per event type: the error names the field and says what is wrong. */
const INVALID: Array<{ type: EventType, name: string, data: () => unknown, path: string, message: string | RegExp }> = [
  { type: 'call.started', name: 'missing job_id', data: () => without('call.started', 'job_id'), path: 'data.job_id', message: 'data.job_id is required' },
  { type: 'call.started', name: 'contact without id', data: () => without('call.started', 'contact.id'), path: 'data.contact.id', message: 'data.contact.id is required' },
  { type: 'call.started', name: 'started_at not a date-time', data: () => samplePayload('call.started', { started_at: 'yesterday' }), path: 'data.started_at', message: 'data.started_at must be an ISO-8601 date-time such as 2025-01-15T10:30:00Z' },
  { type: 'call.started', name: 'unknown direction', data: () => samplePayload('call.started', { direction: 'sideways' }), path: 'data.direction', message: 'data.direction must be one of inbound, outbound (got "sideways")' },
  { type: 'call.started', name: 'attempt_number 0', data: () => samplePayload('call.started', { attempt_number: 0 }), path: 'data.attempt_number', message: 'data.attempt_number must be at least 1 (got 0)' },
  { type: 'call.ended', name: 'unknown status', data: () => samplePayload('call.ended', { status: 'done' }), path: 'data.status', message: 'data.status must be one of completed, no_answer, busy, failed, voicemail (got "done")' },
  { type: 'call.ended', name: 'missing status', data: () => without('call.ended', 'status'), path: 'data.status', message: 'data.status is required' },
  { type: 'call.ended', name: 'retry without attempt_number', data: () => without('call.ended', 'retry.attempt_number'), path: 'data.retry.attempt_number', message: 'data.retry.attempt_number is required' },
  { type: 'call.ended', name: 'retry.attempt_number a string', data: () => samplePayload('call.ended', { retry: { attempt_number: '1' } }), path: 'data.retry.attempt_number', message: 'data.retry.attempt_number must be an integer (got "1")' },
  { type: 'call.ended', name: 'duration_seconds a string', data: () => samplePayload('call.ended', { duration_seconds: '295' }), path: 'data.duration_seconds', message: 'data.duration_seconds must be a number (got "295")' },
  { type: 'call.ended', name: 'transcript a number', data: () => samplePayload('call.ended', { transcript: 5 }), path: 'data.transcript', message: 'data.transcript must be a string or null (got 5)' },
  { type: 'call.ended', name: 'next_retry_at not a date-time', data: () => samplePayload('call.ended', { retry: { next_retry_at: 'soon' } }), path: 'data.retry.next_retry_at', message: 'data.retry.next_retry_at must be an ISO-8601 date-time such as 2025-01-15T10:30:00Z' },
  { type: 'call.ended', name: 'recording_url not http(s)', data: () => samplePayload('call.ended', { recording_url: 'ftp://files/rec.mp3' }), path: 'data.recording_url', message: 'data.recording_url must be an http:// or https:// URL' },
  { type: 'call.ended', name: 'will_retry a string', data: () => samplePayload('call.ended', { retry: { will_retry: 'no' } }), path: 'data.retry.will_retry', message: 'data.retry.will_retry must be true or false (got "no")' },
  { type: 'call.analyzed', name: 'call without id', data: () => without('call.analyzed', 'call.id'), path: 'data.call.id', message: 'data.call.id is required' },
  { type: 'call.analyzed', name: 'score above 100', data: () => samplePayload('call.analyzed', { call: { score: 150 } }), path: 'data.call.score', message: 'data.call.score must be at most 100 (got 150)' },
  { type: 'call.analyzed', name: 'a tool result that is not an object', data: () => samplePayload('call.analyzed', { in_call_tools: [{ name: 'book' }, 7] }), path: 'data.in_call_tools[1]', message: 'data.in_call_tools[1] must be an object (got 7)' },
  { type: 'call.analyzed', name: 'structured_data an array', data: () => samplePayload('call.analyzed', { call: { structured_data: [] } }), path: 'data.call.structured_data', message: 'data.call.structured_data must be an object or null (got an array)' },
  { type: 'call.analyzed', name: 'contact.id empty', data: () => samplePayload('call.analyzed', { contact: { id: '' } }), path: 'data.contact.id', message: 'data.contact.id must not be empty' },
  { type: 'campaign.ended', name: 'unknown end_reason', data: () => samplePayload('campaign.ended', { end_reason: 'done' }), path: 'data.end_reason', message: 'data.end_reason must be one of completed, cancelled, failed (got "done")' },
  { type: 'campaign.ended', name: 'negative count', data: () => samplePayload('campaign.ended', { stats: { completed: -1 } }), path: 'data.stats.completed', message: 'data.stats.completed must be at least 0 (got -1)' },
  { type: 'campaign.ended', name: 'fractional total_contacts', data: () => samplePayload('campaign.ended', { stats: { total_contacts: 1.5 } }), path: 'data.stats.total_contacts', message: 'data.stats.total_contacts must be an integer (got 1.5)' },
  { type: 'campaign.ended', name: 'missing performance', data: () => without('campaign.ended', 'performance'), path: 'data.performance', message: 'data.performance is required' },
  { type: 'campaign.ended', name: 'error with an empty code', data: () => samplePayload('campaign.ended', { end_reason: 'failed', error: { code: '', message: 'x' } }), path: 'data.error.code', message: 'data.error.code must not be empty' },
  { type: 'campaign.paused', name: 'stats not an object', data: () => samplePayload('campaign.paused', { stats: 'lots' }), path: 'data.stats', message: 'data.stats must be an object (got "lots")' },
  { type: 'campaign.resumed', name: 'paused_at a number', data: () => samplePayload('campaign.resumed', { paused_at: 1736937000 }), path: 'data.paused_at', message: 'data.paused_at must be a string or null (got 1736937000)' },
  { type: 'campaign.failed', name: 'error without code', data: () => without('campaign.failed', 'error.code'), path: 'data.error.code', message: 'data.error.code is required' },
  { type: 'campaign.started', name: 'missing campaign_id', data: () => without('campaign.started', 'campaign_id'), path: 'data.campaign_id', message: 'data.campaign_id is required' },
  { type: 'campaign.failed', name: 'campaign_name a number', data: () => samplePayload('campaign.failed', { campaign_name: 7 }), path: 'data.campaign_name', message: 'data.campaign_name must be a string (got 7)' },
]

for (const { type, name, data, path, message } of INVALID) {
  test(`${type}: rejects ${name}, naming ${path}`, () => {
    assertOneError(errorsOf(type, data()), path, message)
  })
}

test('every event type has at least one invalid-payload case above', () => {
  const covered = new Set(INVALID.map((c) => c.type))
  assert.equal(covered.size, 8)
})

test('reports every broken field at once, each once', () => {
  const data = without('call.ended', 'job_id')
  data.status = 'done'
  data.retry = { will_retry: false }
  const errors = errorsOf('call.ended', data)
  assert.deepEqual(errors.map((e) => e.path).sort(), [
    'data.job_id',
    'data.retry.attempt_number',
    'data.retry.max_attempts',
    'data.status',
  ])
})

test('a very long wrong string is not echoed back', () => {
  const errors = errorsOf('call.ended', samplePayload('call.ended', { status: 'x'.repeat(500) }))
  assert.match(errors[0]?.message ?? '', /\(got a longer string\)$/)
})

test('accepts timestamps with offsets and fractions, rejects dates without a time', () => {
  for (const ok of ['2025-01-15T10:30:00Z', '2025-01-15T10:30:00.123Z', '2025-01-15T12:30:00+02:00']) {
    assert.equal(validateEventData('call.started', samplePayload('call.started', { started_at: ok })).ok, true, ok)
  }
  for (const bad of ['2025-01-15', '2025-01-15 10:30:00Z', '2025-01-15T10:30:00']) {
    assertOneError(errorsOf('call.started', samplePayload('call.started', { started_at: bad })), 'data.started_at', /ISO-8601/)
  }
})

test('returns the same data object when valid', () => {
  const data = samplePayload('campaign.paused')
  const result = validateEventData('campaign.paused', data)
  assert.equal(result.ok && result.data, data)
})

test('validateEventType accepts the eight types and rejects the rest with a clear message', () => {
  assert.deepEqual(validateEventType('call.ended'), { ok: true, data: 'call.ended' })
  const wildcard = validateEventType('*')
  assert.equal(wildcard.ok, false)
  if (!wildcard.ok) {
    assert.deepEqual(wildcard.errors, [{
      path: 'event',
      message: 'event must be one of call.started, call.ended, call.analyzed, campaign.started, campaign.ended, campaign.paused, campaign.resumed, campaign.failed (got "*")',
    }])
  }
  assert.deepEqual(validateEventType(undefined), { ok: false, errors: [{ path: 'event', message: 'event is required' }] })
  const numeric = validateEventType(3)
  assert.equal(numeric.ok, false)
  if (!numeric.ok) assert.match(numeric.errors[0]?.message ?? '', /\(got 3\)$/)
})

test('validateEventData answers an unknown type with an error on "event" instead of throwing', () => {
  const result = validateEventData('call.exploded' as EventType, {})
  assert.deepEqual(result.ok ? [] : result.errors.map((e) => e.path), ['event'])
})

test('campaign.started/paused/resumed/failed need only campaign_id and accept what the spec does not fix', () => {
  for (const type of ['campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.failed'] as const) {
    assert.equal(validateEventData(type, { campaign_id: 'camp_1' }).ok, true, `${type} with only campaign_id`)
    assert.equal(validateEventData(type, { campaign_id: 'camp_1', campaign_name: 'Q1', status: 'warming_up', producer_field: { any: ['thing'] } }).ok, true, `${type} with an unforeseen status`)
    const missing = validateEventData(type, { campaign_name: 'Q1' })
    assert.deepEqual(missing.ok ? [] : missing.errors.map((e) => e.path), ['data.campaign_id'], type)
  }
})
