import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { EventType } from '../events/event-types.js'
import { validateEventData } from '../events/validate.js'
import { createCallSimulator } from './call-simulator.js'
import type { CallRequest, EmitReceipt } from './call-simulator.js'
import { createManualClock } from '../util/clock.js'
import type { OutcomeWeights } from '../config/outcome-weights.js'
import { createScheduler } from './scheduler.js'

interface Emitted {
  type: EventType
  data: Record<string, unknown>
  at: number
}

function only (outcome: keyof OutcomeWeights): OutcomeWeights {
  return { completed: 0, no_answer: 0, busy: 0, failed: 0, voicemail: 0, [outcome]: 1 }
}

function setup (options: { seed?: number, weights?: OutcomeWeights, receipt?: (type: EventType) => EmitReceipt } = {}) {
  const clock = createManualClock()
  const scheduler = createScheduler({ speed: 1 }, { clock })
  const emitted: Emitted[] = []
  const calls = createCallSimulator({ seed: options.seed ?? 42, outcomeWeights: options.weights }, {
    scheduler,
    emit: async (type, data) => {
      // Every payload must be one the catalog accepts.
      const result = validateEventData(type, data)
      assert.ok(result.ok, `${type} payload invalid: ${JSON.stringify(result.ok ? [] : result.errors)}`)
      emitted.push({ type, data, at: clock.now() })
      return options.receipt?.(type) ?? {}
    },
  })
  return { clock, scheduler, emitted, calls }
}

const call = (key = 'ct_1'): CallRequest => ({
  jobId: 'job_1',
  contact: { id: key, name: 'John Doe', phone: '+14155551234' },
  personaId: 'per_abc',
  campaignId: null,
  streamKey: key,
})

test('a completed call emits call.started, call.ended and call.analyzed, in that order, for one job', async () => {
  const { clock, emitted, calls } = setup({ weights: only('completed') })
  const done = calls.dial(call())
  await clock.runAll()
  const reports = await done
  assert.equal(reports.length, 1)
  assert.deepEqual(emitted.map((e) => e.type), ['call.started', 'call.ended', 'call.analyzed'])
  const [started, ended, analyzed] = emitted.map((e) => e.data)
  assert.equal(started?.job_id, 'job_1')
  assert.equal(ended?.job_id, 'job_1')
  assert.equal((analyzed?.call as Record<string, unknown>).id, 'job_1')
  assert.equal(ended?.status, 'completed')
  assert.ok((ended?.duration_seconds as number) >= 40)
  assert.match(String(ended?.transcript), /^Agent: /)
  assert.match(String(ended?.recording_url), /^https:\/\/recordings\.kejue\.co\//)
  assert.deepEqual(ended?.retry, { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 })
  // The call lasted its duration: call.ended comes duration_seconds after call.started.
  const gapMs = (emitted[1]?.at ?? 0) - (emitted[0]?.at ?? 0)
  assert.equal(gapMs, (ended?.duration_seconds as number) * 1000)
  const analysis = analyzed?.call as Record<string, unknown>
  assert.equal(typeof analysis.summary, 'string')
  assert.equal(typeof analysis.outcome_id, 'string')
  assert.ok((analysis.score as number) >= 0 && (analysis.score as number) <= 100)
  assert.equal((analyzed?.contact as Record<string, unknown>).status, analysis.outcome_id)
})

test('no_answer is dialled again up to 3 attempts, each call.ended saying when the next one is', async () => {
  const { clock, emitted, calls } = setup({ weights: only('no_answer') })
  const done = calls.dial(call())
  await clock.runAll()
  await done
  assert.deepEqual(emitted.map((e) => e.type), ['call.ended', 'call.ended', 'call.ended'])
  const retries = emitted.map((e) => e.data.retry as Record<string, unknown>)
  assert.deepEqual(retries.map((r) => [r.will_retry, r.attempt_number, r.max_attempts]), [[true, 1, 3], [true, 2, 3], [false, 3, 3]])
  assert.equal(retries[2]?.next_retry_at, null)
  for (const [i, e] of emitted.entries()) {
    assert.equal(e.data.duration_seconds, 0)
    assert.equal(e.data.started_at, null)
    assert.equal(e.data.transcript, null)
    if (i < 2) {
      // The next attempt is dialled at next_retry_at (its call.ended follows one ring later).
      const nextRetryAt = Date.parse(String(retries[i]?.next_retry_at))
      assert.equal(nextRetryAt - Date.parse(String(e.data.ended_at)), 600_000)
      assert.ok((emitted[i + 1]?.at ?? 0) > nextRetryAt)
    }
  }
})

test('busy is retried; failed and voicemail are not, and neither emits call.started or call.analyzed', async () => {
  for (const [outcome, attempts] of [['busy', 3], ['failed', 1], ['voicemail', 1]] as const) {
    const { clock, emitted, calls } = setup({ weights: only(outcome) })
    const done = calls.dial(call())
    await clock.runAll()
    assert.equal((await done).length, attempts, outcome)
    assert.deepEqual(emitted.map((e) => e.type), Array(attempts).fill('call.ended'), outcome)
    assert.ok(emitted.every((e) => e.data.status === outcome))
  }
})

test('the same seed draws the same outcomes, whatever the timing; another seed draws others', async () => {
  const draw = async (seed: number) => {
    const { clock, emitted, calls } = setup({ seed })
    const all = Promise.all(Array.from({ length: 20 }, (_, i) => calls.dial(call(`ct_${i}`))))
    await clock.runAll()
    await all
    return emitted.filter((e) => e.type === 'call.ended').map((e) => `${String(e.data.contact_id)}:${String(e.data.status)}:${String(e.data.duration_seconds)}`).sort()
  }
  assert.deepEqual(await draw(7), await draw(7))
  assert.notDeepEqual(await draw(7), await draw(8))
})

test('call.analyzed is not emitted before call.ended\'s deliveries to unordered webhooks settled', async () => {
  let release: () => void = () => {}
  const delivered = new Promise<void>((resolve) => { release = resolve })
  const { clock, emitted, calls } = setup({
    weights: only('completed'),
    receipt: (type) => (type === 'call.ended' ? { unorderedSettled: () => delivered } : {}),
  })
  const done = calls.dial(call())
  await clock.runAll()
  assert.deepEqual(emitted.map((e) => e.type), ['call.started', 'call.ended'])
  release()
  await done
  assert.deepEqual(emitted.map((e) => e.type), ['call.started', 'call.ended', 'call.analyzed'])
})

test('with only ordered webhooks, call.analyzed does not wait for call.ended\'s deliveries; the call ends once both settled', async () => {
  let release: () => void = () => {}
  const delivered = new Promise<void>((resolve) => { release = resolve })
  let finished = false
  const { clock, emitted, calls } = setup({
    weights: only('completed'),
    receipt: (type) => (type === 'call.ended' ? { settled: () => delivered, unorderedSettled: async () => {} } : {}),
  })
  const done = calls.dial(call()).then(() => { finished = true })
  await clock.runAll()
  assert.deepEqual(emitted.map((e) => e.type), ['call.started', 'call.ended', 'call.analyzed'])
  assert.equal(finished, false)
  release()
  await done
})
