import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareBuilds, summarize } from '../../bench/summary.js'

test('bench --repeat: each figure once, with its median, range and every run\'s ratio in run order', () => {
  const lines = summarize([
    [{ figure: 'full path', value: 4_000, unit: 'ev/s', ratio: 0.30, goal: '≥ 0.35×' }, { figure: 'p99', value: 12.04, unit: 'ms' }],
    [{ figure: 'full path', value: 3_000, unit: 'ev/s', ratio: 0.25, goal: '≥ 0.35×' }, { figure: 'p99', value: 18.5, unit: 'ms' }],
    [{ figure: 'full path', value: 5_000, unit: 'ev/s', ratio: 0.28, goal: '≥ 0.35×' }],
  ], 'figure (sqlite)')
  assert.deepEqual(lines.slice(2), [
    '| full path | 4000 (3000–5000) ev/s | 0.28 (0.25–0.30)× | 0.30 / 0.25 / 0.28 | ≥ 0.35× |',
    // Missing from the third run: summarized over the two that have it (an even count's median is the mean of the middle two).
    '| p99 | 15.3 (12.0–18.5) ms |  |  |  |',
  ])
  assert.match(lines[0] ?? '', /figure \(sqlite\), 3 runs/)
})

test('bench --repeat 1: the one value, without a range', () => {
  const lines = summarize([[{ figure: 'full path', value: 4_321, unit: 'ev/s', ratio: 0.314 }]], 'figure')
  assert.equal(lines[2], '| full path | 4321 ev/s | 0.31× | 0.31 |  |')
})

test('bench --against: this build ÷ the other within each run, for the figures both reported', () => {
  const lines = compareBuilds([
    [{ figure: 'full path', value: 4_400, unit: 'ev/s' }, { figure: '[against] full path', value: 4_000, unit: 'ev/s' }, { figure: 'bare relay', value: 9_000, unit: 'ev/s' }],
    [{ figure: '[against] full path', value: 5_000, unit: 'ev/s' }, { figure: 'full path', value: 5_250, unit: 'ev/s' }],
  ], '[against] ')
  assert.deepEqual(lines, [
    '| this build ÷ against build, 2 runs | median (min–max) | each run |',
    '|---|---|---|',
    // The relay ran once per run (it measures no build): nothing to compare.
    '| full path | 1.075 (1.050–1.100) | 1.100 / 1.050 |',
  ])
})
