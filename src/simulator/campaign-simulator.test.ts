import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { EventType } from '../events/event-types.js'
import { computeCampaignPerformance } from '../events/performance.js'
import { validateEventData } from '../events/validate.js'
import { createCallSimulator } from './call-simulator.js'
import type { SimContact } from './call-simulator.js'
import { createCampaign } from './campaign-simulator.js'
import type { CampaignSpec } from './campaign-simulator.js'
import { createManualClock } from '../util/clock.js'
import { createScheduler } from './scheduler.js'

interface Emitted {
  type: EventType
  data: Record<string, unknown>
}

function contacts (n: number): SimContact[] {
  return Array.from({ length: n }, (_, i) => ({ id: `ct_${i}`, name: `Contact ${i}`, phone: `+1415555${String(i).padStart(4, '0')}` }))
}

function setup (spec: Partial<CampaignSpec> & { n?: number } = {}, seed = 1) {
  const clock = createManualClock()
  const scheduler = createScheduler({ speed: 1 }, { clock })
  const emitted: Emitted[] = []
  const emit = async (type: EventType, data: Record<string, unknown>) => {
    const result = validateEventData(type, data)
    assert.ok(result.ok, `${type} payload invalid: ${JSON.stringify(result.ok ? [] : result.errors)}`)
    emitted.push({ type, data: JSON.parse(JSON.stringify(data)) as Record<string, unknown> })
    return {}
  }
  const calls = createCallSimulator({ seed }, { scheduler, emit })
  const campaign = createCampaign({ name: 'Q1 Outreach', personaId: 'per_abc', contacts: contacts(spec.n ?? 60), maxConcurrentCalls: 5, ...spec }, { scheduler, calls, emit })
  return { clock, emitted, campaign }
}

/** Per contact, the status of its latest call.ended: what campaign.ended's stats must count. */
function countLatest (emitted: Emitted[]): Record<string, number> {
  const latest = new Map<string, string>()
  for (const e of emitted) if (e.type === 'call.ended') latest.set(String(e.data.contact_id), String(e.data.status))
  const counts: Record<string, number> = { completed: 0, no_answer: 0, busy: 0, failed: 0, voicemail: 0 }
  for (const status of latest.values()) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

test('a campaign runs every contact and ends with stats equal to the call.ended it emitted', async () => {
  const { clock, emitted, campaign } = setup({ n: 60 })
  await campaign.start()
  await clock.runAll()
  const final = await campaign.ended
  assert.equal(emitted[0]?.type, 'campaign.started')
  assert.equal(emitted.at(-1)?.type, 'campaign.ended')
  const ended = emitted.at(-1)?.data as Record<string, Record<string, number>>
  assert.equal(ended.end_reason as unknown, 'completed')
  const counts = countLatest(emitted)
  for (const status of ['completed', 'no_answer', 'busy', 'failed', 'voicemail']) assert.equal(ended.stats?.[status], counts[status], status)
  assert.equal(ended.stats?.total_contacts, 60)
  assert.equal(ended.stats?.not_called, 0)
  assert.equal(ended.stats?.calls_placed, emitted.filter((e) => e.type === 'call.ended').length)
  const durations = emitted.filter((e) => e.type === 'call.ended' && e.data.status === 'completed').map((e) => e.data.duration_seconds as number)
  assert.deepEqual(ended.performance, computeCampaignPerformance(ended.stats as never, durations))
  assert.equal(final.status, 'completed')
  // Every call event carries the campaign id, and every analysis follows its call's end.
  const seenEnded = new Set<string>()
  for (const e of emitted) {
    if (e.type === 'call.ended') {
      assert.equal(e.data.campaign_id, campaign.id)
      seenEnded.add(String(e.data.job_id))
    }
    if (e.type === 'call.analyzed') assert.ok(seenEnded.has(String((e.data.call as Record<string, unknown>).id)))
  }
})

test('pause stops new dials until resume; calls on the line finish', async () => {
  const { clock, emitted, campaign } = setup({ n: 40 })
  await campaign.start()
  await clock.advance(60_000)
  await campaign.pause()
  const onLine = campaign.snapshot().callsInFlight
  const endedBefore = emitted.filter((e) => e.type === 'call.ended').length
  await clock.advance(24 * 3_600_000)
  const endedDuringPause = emitted.filter((e) => e.type === 'call.ended').length - endedBefore
  assert.ok(endedDuringPause <= onLine, `${endedDuringPause} calls ended during the pause, ${onLine} were on the line`)
  assert.equal(campaign.snapshot().callsInFlight, 0)
  assert.equal(campaign.snapshot().status, 'paused')
  assert.equal(emitted.some((e) => e.type === 'campaign.ended'), false)
  const paused = emitted.find((e) => e.type === 'campaign.paused')
  assert.equal(paused?.data.status, 'paused')
  await campaign.resume()
  await clock.runAll()
  const final = await campaign.ended
  assert.equal(final.status, 'completed')
  assert.equal(final.stats.not_called, 0)
  const types = emitted.map((e) => e.type).filter((t) => t.startsWith('campaign.'))
  assert.deepEqual(types, ['campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.ended'])
})

test('cancel ends the campaign with end_reason cancelled after the calls on the line', async () => {
  const { clock, emitted, campaign } = setup({ n: 50 })
  await campaign.start()
  await clock.advance(90_000)
  const cancelled = campaign.cancel()
  await clock.runAll()
  await cancelled
  const final = await campaign.ended
  assert.equal(final.endReason, 'cancelled')
  const last = emitted.at(-1)
  assert.equal(last?.type, 'campaign.ended')
  assert.equal(last?.data.end_reason, 'cancelled')
  const stats = last?.data.stats as Record<string, number>
  const counts = countLatest(emitted)
  for (const status of Object.keys(counts)) assert.equal(stats[status], counts[status])
  assert.ok((stats.not_called ?? 0) > 0)
  const sum = ['completed', 'no_answer', 'busy', 'failed', 'voicemail', 'not_called'].reduce((s, k) => s + (stats[k] ?? 0), 0)
  assert.equal(sum, 50)
  await assert.rejects(campaign.resume(), { code: 'CONFLICT' })
})

test('a failure emits campaign.failed, then campaign.ended with end_reason failed', async () => {
  const { clock, emitted, campaign } = setup({ n: 30, failAfterCalls: 5 })
  await campaign.start()
  await clock.runAll()
  const final = await campaign.ended
  assert.equal(final.status, 'failed')
  const types = emitted.map((e) => e.type).filter((t) => t.startsWith('campaign.'))
  assert.deepEqual(types, ['campaign.started', 'campaign.failed', 'campaign.ended'])
  const ended = emitted.at(-1)?.data
  assert.equal(ended?.end_reason, 'failed')
  assert.equal((ended?.error as Record<string, unknown>).code, 'TELEPHONY_PROVIDER_UNAVAILABLE')
})

test('transitions that make no sense are refused with CONFLICT', async () => {
  const { clock, campaign } = setup({ n: 3 })
  await assert.rejects(campaign.pause(), { code: 'CONFLICT' })
  await assert.rejects(campaign.resume(), { code: 'CONFLICT' })
  await campaign.start()
  await assert.rejects(campaign.start(), { code: 'CONFLICT' })
  await assert.rejects(campaign.resume(), { code: 'CONFLICT' })
  await clock.runAll()
  await campaign.ended
  await assert.rejects(campaign.cancel(), { code: 'CONFLICT' })
})

test('a pending campaign can be cancelled without dialling anyone', async () => {
  const { emitted, campaign } = setup({ n: 3 })
  await campaign.cancel()
  const final = await campaign.ended
  assert.equal(final.endReason, 'cancelled')
  assert.deepEqual(emitted.map((e) => e.type), ['campaign.ended'])
  assert.equal((emitted[0]?.data.stats as Record<string, number>).not_called, 3)
})
