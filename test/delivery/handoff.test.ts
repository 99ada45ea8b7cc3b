/**
 * Handoff (src/delivery/handoff.ts): an event accepted in a process whose engine runs is recorded
 * with its deliveries already leased to that engine and sent without a claim; an ordered
 * delivery still goes through the queue. Counts what the store's claims returned (the store
 * is real, only counted), so it cannot flake under load.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { createEngine } from '../../src/delivery/engine.js'
import { attachHandoff } from '../../src/delivery/handoff.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { samplePayload } from '../../src/events/samples.js'
import type { Store } from '../../src/store/store.js'
import { USER_AGENT } from '../../src/util/version.js'
import { STORE_KINDS, startStack } from '../helpers/both-stores.js'
import { startReceiver } from '../helpers/receiver.js'

/** The same store, counting the deliveries its claims handed out. */
function countingClaims (store: Store): { store: Store, claimed: () => number } {
  let claimed = 0
  const counted: Store = {
    ...store,
    claimDue: async (options) => {
      const rows = await store.claimDue(options)
      claimed += rows.length
      return rows
    },
  }
  return { store: counted, claimed: () => claimed }
}

for (const kind of STORE_KINDS) {
  test(`${kind}: accepted with the engine in the same process, deliveries go out without a claim; ordered and rate-limited ones are claimed`, { timeout: 120_000 }, async () => {
    const stack = await startStack(kind, { engines: 0 })
    const receiver = await startReceiver()
    const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
    const { store, claimed } = countingClaims(stack.store)
    const engine = createEngine({ idlePollMs: 200, owner: 'handoff-engine', breakerThreshold: 0 }, { store, sender })
    try {
      const plain = await stack.addWebhook({ url: receiver.url, events: ['call.ended'] })
      const ordered = await stack.addWebhook({ url: receiver.url, events: ['call.ended'], ordering: 'per_call' })
      const paced = await stack.addWebhook({ url: receiver.url, events: ['call.ended'], rateLimitPerS: 1_000 })
      assert.equal(new Set([plain.id, ordered.id, paced.id]).size, 3)
      engine.start()
      attachHandoff(store, engine.handoff)
      const events = 40
      for (let i = 0; i < events; i++) {
        await acceptEvent(store, { workspaceId: stack.workspaceId, event: 'call.ended', data: { ...samplePayload('call.ended'), job_id: `job_${i}` } })
      }
      await receiver.waitForRequests(events * 3, 60_000)
      assert.equal(claimed(), events * 2, 'only the ordered and the rate-limited webhook\'s deliveries were claimed')
      await new Promise((resolve) => setTimeout(resolve, 500))
      assert.equal(receiver.requests.length, events * 3, 'each delivery was sent once: handed off or claimed, never both')
    } finally {
      await engine.stop(1_000)
      await sender.close()
      await receiver.close()
      await stack.close()
    }
  })
}

for (const kind of STORE_KINDS) {
  test(`${kind}: deliveries whose results wait to be written leave room for the handoff`, { timeout: 120_000 }, async () => {
    const stack = await startStack(kind, { engines: 0 })
    const receiver = await startReceiver()
    const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
    const counting = countingClaims(stack.store)
    // Settlements wait until the test opens the gate: every result stays waiting to be written.
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => { open = resolve })
    const store: Store = {
      ...counting.store,
      completeAttempts: async (...args) => { await gate; return await counting.store.completeAttempts(...args) },
    }
    // A webhook's cap: 2 slots, 2 buffered, 2 in reserve (6); as many settling again do not count.
    const engine = createEngine({ idlePollMs: 200, owner: 'settling-engine', breakerThreshold: 0, maxInFlightPerWebhook: 2, claimBatch: 2 }, { store, sender })
    try {
      await stack.addWebhook({ url: receiver.url, events: ['call.ended'] })
      engine.start()
      attachHandoff(store, engine.handoff)
      const events = 10
      for (let i = 0; i < events; i++) {
        await acceptEvent(store, { workspaceId: stack.workspaceId, event: 'call.ended', data: { ...samplePayload('call.ended'), job_id: `job_${i}` } })
        // Sent before the next is accepted, however loaded the machine: only settling ones pile up.
        await receiver.waitForRequests(i + 1, 30_000)
      }
      // More than the cap went out with none of their results written yet, all of them handed off.
      assert.equal(counting.claimed(), 0, 'no delivery waited in the store for a claim')
      open()
      await engine.stop(5_000)
      const page = await stack.store.listDeliveries({ workspaceId: stack.workspaceId, limit: 100 })
      assert.deepEqual(page.data.map((d) => d.status), Array.from({ length: events }, () => 'succeeded'))
    } finally {
      open()
      await engine.stop(1_000)
      await sender.close()
      await receiver.close()
      await stack.close()
    }
  })
}
