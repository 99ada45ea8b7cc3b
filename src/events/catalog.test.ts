import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { EVENT_CATALOG } from './catalog.js'
import type { EventDataMap, KejueEvent } from './catalog.js'
import { createEnvelope } from './envelope.js'
import { EVENT_TYPES } from './event-types.js'
import { samplePayload } from './samples.js'
import { validateEventData } from './validate.js'

const SPEC_EXAMPLES = ['call.started', 'call.ended', 'call.analyzed', 'campaign.ended'] as const

function readFixture (name: string): { event: string, data: unknown } {
  const url = new URL(`../../test/fixtures/events/${name}.json`, import.meta.url)
  return JSON.parse(readFileSync(url, 'utf8')) as { event: string, data: unknown }
}

test('the catalog has exactly the eight event types of the spec, each with a description and an object schema', () => {
  assert.deepEqual(Object.keys(EVENT_CATALOG).sort(), [...EVENT_TYPES].sort())
  for (const type of EVENT_TYPES) {
    const entry = EVENT_CATALOG[type]
    assert.ok(entry.description.length > 0, type)
    assert.equal(entry.schema.type, 'object', type)
    assert.equal(entry.schema.additionalProperties, true, `${type} allows unknown fields`)
  }
})

for (const name of SPEC_EXAMPLES) {
  test(`the spec's ${name} example validates exactly as printed`, () => {
    const fixture = readFixture(name)
    assert.equal(fixture.event, name)
    const result = validateEventData(name, fixture.data)
    assert.deepEqual(result, { ok: true, data: fixture.data })
  })
}

test('the spec fixtures keep the spec\'s nulls (campaign_id, next_retry_at)', () => {
  const started = readFixture('call.started').data as EventDataMap['call.started']
  const ended = readFixture('call.ended').data as EventDataMap['call.ended']
  assert.equal(started.campaign_id, null)
  assert.equal(ended.retry?.next_retry_at, null)
})

for (const type of EVENT_TYPES) {
  test(`${type}: unknown extra fields are allowed, at the top and nested`, () => {
    const data = samplePayload(type, { future_field: { anything: [1, 2] }, stats: { busy: 4 }, contact: { email: 'a@b.c' } })
    assert.equal(validateEventData(type, data).ok, true)
  })

  test(`${type}: a payload that is not an object is rejected at path "data"`, () => {
    for (const bad of [null, [], 'call', 42]) {
      const result = validateEventData(type, bad)
      assert.equal(result.ok, false)
      if (!result.ok) {
        assert.equal(result.errors.length, 1)
        assert.equal(result.errors[0]?.path, 'data')
        assert.match(result.errors[0]?.message ?? '', /^data must be an object/)
      }
    }
  })
}

test('call.started and call.ended accept persona_id and campaign_id as strings or null, and without them', () => {
  for (const type of ['call.started', 'call.ended'] as const) {
    assert.equal(validateEventData(type, samplePayload(type, { persona_id: 'per_x', campaign_id: 'camp_y' })).ok, true)
    assert.equal(validateEventData(type, samplePayload(type, { persona_id: null, campaign_id: null })).ok, true)
    const { persona_id: _p, campaign_id: _c, ...without } = samplePayload(type)
    assert.equal(validateEventData(type, without).ok, true)
  }
})

test('KejueEvent narrows data on event (checked by the type checker)', () => {
  const envelope = createEnvelope({ event: 'call.ended', workspaceId: 'ws_1', data: samplePayload('call.ended') })
  const evt = envelope as KejueEvent
  let seen = ''
  switch (evt.event) {
    case 'call.ended':
      seen = evt.data.status
      // @ts-expect-error end_reason belongs to campaign.ended, not call.ended
      void evt.data.end_reason
      break
    case 'campaign.ended':
      seen = evt.data.end_reason
      break
    case 'call.analyzed':
      seen = evt.data.call.id
      break
    default:
      seen = evt.event
  }
  assert.equal(seen, 'completed')
})
