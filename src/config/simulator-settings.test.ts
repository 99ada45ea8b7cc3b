import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveConfig } from './load.js'
import { DEFAULT_OUTCOME_WEIGHTS } from './outcome-weights.js'

test('the simulator is off by default, at real speed, with a random seed and the default weights', () => {
  const config = resolveConfig({ env: {} })
  assert.deepEqual(config.simulator, { enabled: false, speed: 1, seed: null, outcomeWeights: DEFAULT_OUTCOME_WEIGHTS })
})

test('KEJUE_SIMULATOR* and --simulate* set the simulator; flags win over env', () => {
  const config = resolveConfig({
    env: { KEJUE_SIMULATOR: 'true', KEJUE_SIMULATOR_SPEED: '50', KEJUE_SIMULATOR_SEED: '42', KEJUE_SIMULATOR_OUTCOMES: 'completed=1,no_answer=0' },
    flags: { simulateSpeed: '2.5' },
  })
  assert.equal(config.simulator.enabled, true)
  assert.equal(config.simulator.speed, 2.5)
  assert.equal(config.simulator.seed, 42)
  assert.equal(config.simulator.outcomeWeights.completed, 1)
  assert.equal(config.simulator.outcomeWeights.no_answer, 0)
  assert.equal(config.simulator.outcomeWeights.busy, DEFAULT_OUTCOME_WEIGHTS.busy)
  assert.equal(resolveConfig({ flags: { simulate: true } }).simulator.enabled, true)
})

test('bad simulator settings name the setting and its source', () => {
  assert.throws(() => resolveConfig({ env: { KEJUE_SIMULATOR_SPEED: '0' } }), /KEJUE_SIMULATOR_SPEED \(env\) must be a number above 0/)
  assert.throws(() => resolveConfig({ flags: { simulateSeed: '-1' } }), /--simulate-seed \(flag\) must be an integer/)
  assert.throws(() => resolveConfig({ env: { KEJUE_SIMULATOR_OUTCOMES: 'answered=1' } }), /KEJUE_SIMULATOR_OUTCOMES \(env\) must be outcome=weight pairs/)
})
