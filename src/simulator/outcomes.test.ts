import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CALL_OUTCOMES, DEFAULT_OUTCOME_WEIGHTS, parseOutcomeWeights } from '../config/outcome-weights.js'
import { drawOutcome, shapeCall } from './outcomes.js'
import { createRandom } from './random.js'

test('outcomes follow the configured weights', () => {
  const random = createRandom(3)
  const weights = { completed: 0.5, no_answer: 0, busy: 0, failed: 0.2, voicemail: 0.3 }
  const counts = new Map<string, number>()
  const n = 2000
  for (let i = 0; i < n; i++) {
    const outcome = drawOutcome(random, weights)
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
  }
  assert.equal(counts.get('no_answer'), undefined)
  assert.equal(counts.get('busy'), undefined)
  // ±3.5 points around 50/20/30 % over 2000 draws (more than 3 standard deviations).
  assert.ok(Math.abs((counts.get('completed') ?? 0) / n - 0.5) < 0.035, String(counts.get('completed')))
  assert.ok(Math.abs((counts.get('failed') ?? 0) / n - 0.2) < 0.035, String(counts.get('failed')))
  assert.ok(Math.abs((counts.get('voicemail') ?? 0) / n - 0.3) < 0.035, String(counts.get('voicemail')))
})

test('only calls that connected last: conversations and voicemails have durations, the rest 0', () => {
  const random = createRandom(11)
  for (const outcome of CALL_OUTCOMES) {
    for (let i = 0; i < 200; i++) {
      const shape = shapeCall(random, outcome)
      assert.ok(shape.ringMs > 0)
      if (outcome === 'completed') assert.ok(shape.durationSeconds >= 40 && shape.durationSeconds <= 540)
      else if (outcome === 'voicemail') assert.ok(shape.durationSeconds >= 18 && shape.durationSeconds <= 45)
      else assert.equal(shape.durationSeconds, 0)
    }
  }
})

test('outcome weights parse from name=weight pairs; unnamed outcomes keep their default', () => {
  const weights = parseOutcomeWeights('completed=1, no_answer=0')
  assert.equal(weights.completed, 1)
  assert.equal(weights.no_answer, 0)
  assert.equal(weights.busy, DEFAULT_OUTCOME_WEIGHTS.busy)
  assert.throws(() => parseOutcomeWeights('answered=1'), /not one of/)
  assert.throws(() => parseOutcomeWeights('completed=x'), /not outcome=weight/)
  assert.throws(() => parseOutcomeWeights('completed=0,no_answer=0,busy=0,failed=0,voicemail=0'), /must not all be 0/)
})
