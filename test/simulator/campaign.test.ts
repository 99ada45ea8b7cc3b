import { test } from 'node:test'
import assert from 'node:assert/strict'
import { computeCampaignPerformance } from '../../src/events/performance.js'
import type { CampaignStats } from '../../src/events/schemas/campaign.js'
import { events, startHarness, waitFor, waitSettled } from './helpers.js'

const SECRET = 'whsec_campaign_test_secret'

test('a 200-contact seeded campaign: campaign.ended stats equal the call.ended the receiver got, performance is the catalog\'s', async () => {
  const h = await startHarness({ speed: 20_000, seed: 1234 })
  try {
    const { listener, url } = await h.receiver(SECRET)
    const hook = await h.api('POST', '/webhooks', { url, events: ['*'], secret: SECRET, ordering: 'per_call' })
    assert.equal(hook.status, 201)
    const contacts = Array.from({ length: 200 }, (_, i) => ({ id: `ct_${i}` }))
    const created = await h.api('POST', '/campaigns', { name: 'Acceptance', persona_id: 'per_abc', contacts, auto_start: true, max_concurrent_calls: 50 })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const id = String(created.body.id)
    await waitFor('campaign.ended', async () => (await h.api('GET', `/campaigns/${id}`)).body.ended === true, 45_000)
    await waitSettled(h.service)

    assert.ok(listener.received.every((d) => d.verified), 'every delivery verified')
    const got = events(listener.received)
    const ended = got.filter((e) => e.event === 'campaign.ended')
    assert.equal(ended.length, 1)
    const data = ended[0]?.data as { end_reason: string, stats: CampaignStats & Record<string, number>, performance: unknown }
    assert.equal(data.end_reason, 'completed')

    // Each contact's final status is its call.ended with the highest attempt number.
    const callEnded = got.filter((e) => e.event === 'call.ended')
    const latest = new Map<string, { attempt: number, status: string }>()
    for (const e of callEnded) {
      const attempt = (e.data.retry as { attempt_number: number }).attempt_number
      const contact = String(e.data.contact_id)
      if ((latest.get(contact)?.attempt ?? 0) < attempt) latest.set(contact, { attempt, status: String(e.data.status) })
    }
    const counts: Record<string, number> = { completed: 0, no_answer: 0, busy: 0, failed: 0, voicemail: 0 }
    for (const { status } of latest.values()) counts[status] = (counts[status] ?? 0) + 1
    assert.equal(latest.size, 200)
    for (const status of Object.keys(counts)) assert.equal(data.stats[status], counts[status], status)
    assert.equal(data.stats.total_contacts, 200)
    assert.equal(data.stats.calls_placed, callEnded.length)
    assert.ok(callEnded.length > 200, 're-dials happened')
    const durations = callEnded.filter((e) => e.data.status === 'completed').map((e) => e.data.duration_seconds as number)
    assert.deepEqual(data.performance, computeCampaignPerformance(data.stats, durations))

    // Every call.analyzed arrives after its call's completed call.ended; campaign.ended arrives last.
    const endedJobs = new Set<string>()
    for (const e of got) {
      if (e.event === 'call.ended' && e.data.status === 'completed') endedJobs.add(String(e.data.job_id))
      if (e.event === 'call.analyzed') {
        const job = String((e.data.call as { id: string }).id)
        const attempts = listener.received.filter((d) => (d.event?.data as { job_id?: string } | undefined)?.job_id === job).map((d) => `${String(d.eventType)}#${String(d.attempt)}`)
        assert.ok(endedJobs.has(job), `call.analyzed before its call.ended (that job's deliveries: ${attempts.join(', ')})`)
      }
    }
    assert.equal(got.filter((e) => e.event === 'call.analyzed').length, counts.completed)
    assert.equal(got[0]?.event, 'campaign.started')
    assert.equal(got.at(-1)?.event, 'campaign.ended')
  } finally {
    await h.close()
  }
})

test('pause stops new dials until resume', async () => {
  const h = await startHarness({ speed: 2_000, seed: 7 })
  try {
    const { listener, url } = await h.receiver(SECRET)
    await h.api('POST', '/webhooks', { url, events: ['*'], secret: SECRET })
    const created = await h.api('POST', '/campaigns', { name: 'Pause', persona_id: 'per_abc', contacts: Array.from({ length: 40 }, () => ({})), auto_start: true, max_concurrent_calls: 4 })
    const id = String(created.body.id)
    await waitFor('a few calls', () => events(listener.received).filter((e) => e.event === 'call.ended').length >= 3)
    const paused = await h.api('POST', `/campaigns/${id}/pause`)
    assert.equal(paused.status, 200)
    assert.equal(paused.body.status, 'paused')
    const atPause = paused.body.stats as Record<string, number>
    const onLine = paused.body.calls_in_flight as number
    // 1.5 s at 2000× is 50 simulated minutes: a running campaign would have dialled many more.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const during = await h.api('GET', `/campaigns/${id}`)
    const placedDuringPause = (during.body.stats as Record<string, number>).calls_placed! - atPause.calls_placed!
    assert.ok(placedDuringPause <= onLine, `${placedDuringPause} calls ended during the pause, ${onLine} were on the line`)
    assert.equal(during.body.calls_in_flight, 0)
    assert.ok((during.body.stats as Record<string, number>).not_called! > 0)
    assert.equal((await h.api('POST', `/campaigns/${id}/pause`)).status, 409)

    assert.equal((await h.api('POST', `/campaigns/${id}/resume`)).status, 200)
    await waitFor('campaign.ended', async () => (await h.api('GET', `/campaigns/${id}`)).body.ended === true, 30_000)
    await waitSettled(h.service)
    const types = events(listener.received).map((e) => e.event).filter((t) => t.startsWith('campaign.'))
    assert.deepEqual(types, ['campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.ended'])
  } finally {
    await h.close()
  }
})

test('cancel ends the campaign with end_reason cancelled', async () => {
  const h = await startHarness({ speed: 500, seed: 3 })
  try {
    const { listener, url } = await h.receiver(SECRET)
    await h.api('POST', '/webhooks', { url, events: ['*'], secret: SECRET })
    const created = await h.api('POST', '/campaigns', { name: 'Cancel', persona_id: 'per_abc', contact_ids: Array.from({ length: 30 }, (_, i) => `ct_${i}`), max_concurrent_calls: 3 })
    const id = String(created.body.id)
    assert.equal(created.body.status, 'pending')
    const started = await h.api('POST', `/campaigns/${id}/start`)
    assert.equal(started.status, 200, JSON.stringify(started.body))
    await waitFor('a call', () => events(listener.received).some((e) => e.event === 'call.ended'))
    const cancelled = await h.api('POST', `/campaigns/${id}/cancel`)
    assert.equal(cancelled.status, 200)
    assert.equal(cancelled.body.status, 'cancelled')
    await waitFor('campaign.ended', async () => (await h.api('GET', `/campaigns/${id}`)).body.ended === true, 30_000)
    await waitSettled(h.service)
    const got = events(listener.received)
    const last = got.filter((e) => e.event.startsWith('campaign.')).at(-1)
    assert.equal(last?.event, 'campaign.ended')
    assert.equal(last?.data.end_reason, 'cancelled')
    assert.ok((last?.data.stats as Record<string, number>).not_called! > 0)
    assert.equal((await h.api('POST', `/campaigns/${id}/resume`)).status, 409)
  } finally {
    await h.close()
  }
})

test('campaigns are per workspace and need valid input', async () => {
  const h = await startHarness({ speed: 1 })
  try {
    assert.equal((await h.api('GET', '/campaigns/camp_nope')).status, 404)
    const neither = await h.api('POST', '/campaigns', { name: 'x', persona_id: 'per_abc' })
    assert.equal(neither.status, 422)
    const bad = await h.api('POST', '/campaigns', { name: 'x', persona_id: 'per_abc', contact_ids: [] })
    assert.ok(bad.status === 400 || bad.status === 422)
  } finally {
    await h.close()
  }
})

test('simulation.fail_after_calls rehearses campaign.failed, then campaign.ended with end_reason failed', async () => {
  const h = await startHarness({ speed: 5_000, seed: 11 })
  try {
    const { listener, url } = await h.receiver(SECRET)
    await h.api('POST', '/webhooks', { url, events: ['campaign.started', 'campaign.failed', 'campaign.ended'], secret: SECRET })
    const created = await h.api('POST', '/campaigns', { name: 'Doomed', persona_id: 'per_abc', contacts: Array.from({ length: 20 }, () => ({})), auto_start: true, max_concurrent_calls: 2, simulation: { fail_after_calls: 3 } })
    const id = String(created.body.id)
    await waitFor('campaign.ended', async () => (await h.api('GET', `/campaigns/${id}`)).body.ended === true, 30_000)
    await waitSettled(h.service)
    const got = events(listener.received)
    assert.deepEqual(got.map((e) => e.event), ['campaign.started', 'campaign.failed', 'campaign.ended'])
    assert.equal((got[1]?.data.error as { code: string }).code, 'TELEPHONY_PROVIDER_UNAVAILABLE')
    assert.equal(got[2]?.data.end_reason, 'failed')
    assert.equal((await h.api('GET', `/campaigns/${id}`)).body.status, 'failed')
  } finally {
    await h.close()
  }
})
