import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHealthProbe } from '../../src/api/health-probe.js'

test('/healthz probes the store once per ttl, shared by concurrent callers', async () => {
  let pings = 0
  let writable = true
  const probe = createHealthProbe({ ping: async () => { pings++; return writable } }, { ttlMs: 60_000 })
  assert.deepEqual(await Promise.all([probe(), probe(), probe()]), [true, true, true])
  assert.equal(pings, 1)
  writable = false
  assert.equal(await probe(), true, 'the cached answer holds for the ttl')
  assert.equal(pings, 1)

  const uncached = createHealthProbe({ ping: async () => { pings++; return writable } }, { ttlMs: 0 })
  assert.equal(await uncached(), false)
  writable = true
  assert.equal(await uncached(), true)
  assert.equal(pings, 3)
})

test('/healthz: a probe that throws or never answers counts as unavailable', async () => {
  const failing = createHealthProbe({ ping: async () => { throw new Error('connection refused') } }, { ttlMs: 0 })
  assert.equal(await failing(), false)
  const hanging = createHealthProbe({ ping: async () => await new Promise<boolean>(() => {}) }, { ttlMs: 0, timeoutMs: 50 })
  assert.equal(await hanging(), false)
})
