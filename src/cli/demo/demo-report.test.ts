import { test } from 'node:test'
import assert from 'node:assert/strict'
import { allVerified, callOrder, renderProgress, renderSummary } from './demo-report.js'
import type { DemoSummary } from './demo-report.js'

const summary: DemoSummary = {
  campaign: { id: 'camp_1', endReason: 'completed', stats: { total_contacts: 50, completed: 30, no_answer: 8, busy: 2, failed: 4, voicemail: 6, calls_placed: 63 }, performance: { connect_rate_percent: 60, completion_rate_percent: 68, average_call_duration_seconds: 201 } },
  eventsByType: { 'call.ended': 63, 'call.started': 30, 'call.analyzed': 30, 'campaign.started': 1, 'campaign.ended': 1 },
  deliveries: { total: 125, succeeded: 125, failed: 0, pending: 0, retried: 12 },
  requests: { total: 137, verified: 137, rejected: 0 },
  order: { calls: 50, outOfOrder: 0 },
  elapsedMs: 4210,
}

test('the progress bar fills in proportion and never overflows', () => {
  assert.equal(renderProgress(0, 50, '', 10), '[░░░░░░░░░░]  0/50 contacts  ')
  assert.equal(renderProgress(25, 50, 'x', 10), '[█████░░░░░] 25/50 contacts  x')
  assert.equal(renderProgress(60, 50, '', 10).slice(0, 12), '[██████████]')
})

test('the summary lists events by type, deliveries and the verification verdict', () => {
  const text = renderSummary(summary)
  assert.match(text, /call\.ended\s+63/)
  assert.match(text, /total\s+125/)
  assert.match(text, /retried\s+12/)
  assert.match(text, /✔ every delivery verified \(137\/137\)/)
  assert.equal(allVerified(summary), true)
  const bad = { ...summary, requests: { total: 137, verified: 136, rejected: 1 } }
  assert.equal(allVerified(bad), false)
  assert.match(renderSummary(bad), /✘ 1 of 137 deliveries did not verify/)
  assert.equal(allVerified({ ...summary, requests: { total: 0, verified: 0, rejected: 0 } }), false)
})

test('callOrder counts calls whose events arrived out of emission order; failed attempts do not count', () => {
  const at = (job: string, type: string, second: number, status = 200) => ({
    status,
    event: { event: type, timestamp: `2025-01-01T00:00:${String(second).padStart(2, '0')}.000Z`, data: type === 'call.analyzed' ? { call: { id: job } } : { job_id: job } },
  })
  assert.deepEqual(callOrder([at('a', 'call.started', 1), at('b', 'call.ended', 1), at('a', 'call.ended', 2), at('a', 'call.analyzed', 3)]), { calls: 2, outOfOrder: 0 })
  assert.deepEqual(callOrder([at('a', 'call.ended', 2, 503), at('a', 'call.analyzed', 3), at('a', 'call.ended', 2)]), { calls: 1, outOfOrder: 1 })
  assert.deepEqual(callOrder([at('a', 'call.ended', 2, 503), at('a', 'call.ended', 2), at('a', 'call.analyzed', 3)]), { calls: 1, outOfOrder: 0 })
  assert.match(renderSummary({ ...summary, order: { calls: 50, outOfOrder: 2 } }), /✘ 2 of 50 calls had events arrive out of order/)
  assert.match(renderSummary(summary), /✔ every call's events arrived in order \(50 calls\)/)
})
