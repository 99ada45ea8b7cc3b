import { describe } from 'node:test'
import assert from 'node:assert/strict'
import { createRetention } from '../../src/delivery/retention.js'
import { createManualClock } from '../../src/util/clock.js'
import { waitFor } from '../helpers/wait-for.js'
import { eraseContactData } from '../../src/delivery/erasure.js'
import { DISCARDED_ERROR, ERASED_ERROR } from '../../src/store/store.js'
import type { ClaimedDelivery, Store, StoredEvent, Workspace } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import { at, claimOptions, deliveryTo, event, result, seed } from './store-fixtures.js'
import { storeTest } from './fresh-store.js'
import type { StoreUnderTest } from './fresh-store.js'

const DAY_MS = 86_400_000

/** An event whose data carries a contact and a job, as call events do. */
function callEvent (workspaceId: string, data: Record<string, unknown>, createdAt = at(0)): StoredEvent {
  const base = event(workspaceId, 'call.ended', createdAt)
  const envelope = JSON.parse(base.body) as Record<string, unknown>
  return { ...base, body: JSON.stringify({ ...envelope, data, metadata: { crm: 'Jane Doe' } }) }
}

/** A workspace with one event whose one delivery succeeded at at(1). */
async function oneSucceeded (store: Store): Promise<{ ws: Workspace, claim: ClaimedDelivery }> {
  const { ws, webhooks: [webhook] } = await seed(store)
  assert.ok(webhook !== undefined)
  await store.recordEvent({ event: event(ws.id), deliveries: [deliveryTo(webhook, at(0))] })
  const [claim] = await store.claimDue(claimOptions(at(0)))
  assert.ok(claim !== undefined)
  await store.completeAttempts([result(claim, { status: 'succeeded' })], at(1))
  return { ws, claim }
}

/**
 * Retention, erasure and the secret codec's raw reads, on every driver (docs/storage.md
 * "Retention", docs/privacy.md). Time comes from a manual clock: nothing here reads Date.now.
 */
export function privacyContract (name: string, makeStore: () => Promise<StoreUnderTest>): void {
  const it = storeTest(makeStore)

  describe(`Store contract (retention, erasure, stored secrets): ${name}`, () => {
    it('retention prunes settled deliveries past the window, their attempts and events, and keeps pending ones', async (store) => {
      const { ws, webhooks: [webhook] } = await seed(store)
      assert.ok(webhook !== undefined)
      const inputs = [0, 1, 2].map(() => ({ event: event(ws.id), deliveries: [deliveryTo(webhook, at(0))] }))
      for (const input of inputs) await store.recordEvent(input)
      const lonely = event(ws.id)
      await store.recordEvent({ event: lonely, deliveries: [] })
      const claimed = await store.claimDue(claimOptions(at(0), { limit: 2 }))
      assert.equal(claimed.length, 2)
      const [first, second] = claimed
      assert.ok(first !== undefined && second !== undefined)
      await store.completeAttempts([result(first, { status: 'succeeded' }), result(second, { status: 'failed' }, { statusCode: 400 })], at(1_000))
      const pendingId = inputs.map((i) => i.deliveries[0]?.id).find((id) => id !== first.deliveryId && id !== second.deliveryId)
      assert.ok(pendingId !== undefined)

      const clock = createManualClock(at(1_000).getTime() + 29 * DAY_MS)
      const retention = createRetention({ retentionDays: 30, batchSize: 1, batchPauseMs: 0 }, { store, clock })
      assert.deepEqual(await retention.runOnce(), { deliveries: 0, attempts: 0, events: 0, discarded: 0 }, 'nothing is older than 30 days yet')

      await clock.advance(DAY_MS + 1)
      const pruned = await retention.runOnce()
      assert.deepEqual(pruned, { deliveries: 2, attempts: 2, events: 3, discarded: 0 })
      assert.equal(await store.getDelivery(ws.id, first.deliveryId), null)
      assert.equal(await store.getDelivery(ws.id, second.deliveryId), null)
      assert.deepEqual(await store.listAttempts(first.deliveryId), [])
      assert.equal(await store.getEvent(ws.id, first.eventId), null)
      assert.equal(await store.getEvent(ws.id, lonely.id), null, 'an event that never had a delivery goes too')
      assert.equal((await store.getDelivery(ws.id, pendingId))?.status, 'pending', 'pending deliveries stay, however old')
      const pendingEvent = inputs.find((i) => i.deliveries[0]?.id === pendingId)?.event
      assert.ok(pendingEvent !== undefined && await store.getEvent(ws.id, pendingEvent.id) !== null, 'and so does their event')
      assert.deepEqual(await retention.runOnce(), { deliveries: 0, attempts: 0, events: 0, discarded: 0 })
    })

    it('retention ends parked deliveries created before the window as failed "discarded", prunes them later, and keeps younger parked and pending ones', async (store) => {
      const { ws, webhooks: [parkedHook, liveHook] } = await seed(store, 2)
      assert.ok(parkedHook !== undefined && liveHook !== undefined)
      const old = { event: event(ws.id), deliveries: [deliveryTo(parkedHook, at(0))] }
      await store.recordEvent(old)
      const pending = { event: event(ws.id), deliveries: [deliveryTo(liveHook, at(0))] }
      await store.recordEvent(pending)
      await store.disableWebhook(ws.id, parkedHook.id, 'manual', at(10))
      const youngDelivery = deliveryTo(parkedHook, at(0))
      const young = { event: event(ws.id, 'call.ended', new Date(at(0).getTime() + 20 * DAY_MS)), deliveries: [{ ...youngDelivery, status: 'parked' as const }] }
      await store.recordEvent(young)
      const oldId = old.deliveries[0]?.id
      const pendingId = pending.deliveries[0]?.id
      assert.ok(oldId !== undefined && pendingId !== undefined)
      assert.equal((await store.getDelivery(ws.id, oldId))?.status, 'parked')
      const healthBefore = (await store.getWebhook(ws.id, parkedHook.id))?.health

      const clock = createManualClock(at(0).getTime() + 30 * DAY_MS + 1)
      const retention = createRetention({ retentionDays: 30, batchSize: 1, batchPauseMs: 0 }, { store, clock })
      assert.deepEqual(await retention.runOnce(), { deliveries: 0, attempts: 0, events: 0, discarded: 1 })
      const discarded = await store.getDelivery(ws.id, oldId)
      assert.equal(discarded?.status, 'failed')
      assert.equal(discarded?.lastError, DISCARDED_ERROR)
      assert.equal((await store.getDelivery(ws.id, youngDelivery.id))?.status, 'parked', 'a parked delivery younger than the window stays parked')
      assert.equal((await store.getDelivery(ws.id, pendingId))?.status, 'pending', 'pending deliveries are untouched')
      const hook = await store.getWebhook(ws.id, parkedHook.id)
      assert.deepEqual(hook?.health, healthBefore, 'a discard is not a delivery failure: the health counters stay')
      assert.equal(hook?.enabled, false)
      assert.deepEqual(await retention.runOnce(), { deliveries: 0, attempts: 0, events: 0, discarded: 0 }, 'discarded now: kept one more window')

      await clock.advance(30 * DAY_MS + 1)
      assert.deepEqual(await retention.runOnce(), { deliveries: 1, attempts: 0, events: 1, discarded: 1 }, 'the discarded one goes; the younger one is now past the window')
      assert.equal(await store.getDelivery(ws.id, oldId), null)
      assert.equal(await store.getEvent(ws.id, old.event.id), null)
      assert.equal((await store.getDelivery(ws.id, youngDelivery.id))?.lastError, DISCARDED_ERROR)
      assert.equal((await store.getDelivery(ws.id, pendingId))?.status, 'pending', 'pending deliveries stay, however old')
    })

    it('the background loop prunes on its clock and stops cleanly', async (store) => {
      const { ws, claim } = await oneSucceeded(store)
      const clock = createManualClock(at(1).getTime() + DAY_MS / 2 + 1)
      const retention = createRetention({ retentionDays: 0.5, batchPauseMs: 0, idleIntervalMs: 60_000 }, { store, clock })
      retention.start()
      await clock.advance(0)
      await waitFor('the settled delivery pruned', async () => await store.getDelivery(ws.id, claim.deliveryId) === null ? true : null, 10_000)
      assert.equal(await store.getEvent(ws.id, claim.eventId), null)
      await retention.stop()
      assert.equal(clock.pendingTimers(), 0, 'no timer is left behind')
    })

    it('retention of 0 days keeps everything', async (store) => {
      const { ws, claim } = await oneSucceeded(store)
      const retention = createRetention({ retentionDays: 0 }, { store, clock: createManualClock(at(0).getTime() + 3_650 * DAY_MS) })
      assert.deepEqual(await retention.runOnce(), { deliveries: 0, attempts: 0, events: 0, discarded: 0 })
      assert.notEqual(await store.getDelivery(ws.id, claim.deliveryId), null)
    })

    it('erasure reduces matched events to ids, clears excerpts and ends open deliveries as "erased"', async (store) => {
      const { ws, webhooks: [webhook] } = await seed(store)
      assert.ok(webhook !== undefined)
      const personal = { job_id: 'job_7', contact_id: 'ct_7', persona_id: 'p_1', campaign_id: 'camp_1', transcript: 'Agent: Hello Jane', contact: { id: 'ct_7', name: 'Jane Doe', phone: '+15551234567' } }
      const settled = callEvent(ws.id, personal)
      const open = callEvent(ws.id, { call: { id: 'job_7', transcript: 'secret words' }, contact: { id: 'ct_7', phone: '+15551234567' } })
      const other = callEvent(ws.id, { job_id: 'job_8', contact_id: 'ct_8', transcript: 'keep me' })
      const settledDelivery = deliveryTo(webhook, at(0))
      const openDelivery = deliveryTo(webhook, at(60_000))
      await store.recordEvent({ event: settled, deliveries: [settledDelivery] })
      await store.recordEvent({ event: open, deliveries: [openDelivery] })
      await store.recordEvent({ event: other, deliveries: [] })
      const [claim] = await store.claimDue(claimOptions(at(0)))
      assert.equal(claim?.deliveryId, settledDelivery.id)
      assert.ok(claim !== undefined)
      await store.completeAttempts([result(claim, { status: 'succeeded' }, { responseExcerpt: 'thanks Jane' })], at(1))
      // The open delivery is claimed by a worker when the erasure lands.
      const [inFlight] = await store.claimDue(claimOptions(at(60_000)))
      assert.equal(inFlight?.deliveryId, openDelivery.id)
      assert.ok(inFlight !== undefined)

      const matchedByContact = await store.findEventsToErase(ws.id, { contactId: 'ct_7', jobId: null })
      assert.deepEqual(matchedByContact.map((e) => e.id).sort(), [settled.id, open.id].sort())
      assert.deepEqual((await store.findEventsToErase(ws.id, { contactId: null, jobId: 'job_7' })).map((e) => e.id).sort(), [settled.id, open.id].sort())
      assert.deepEqual((await store.findEventsToErase(ws.id, { contactId: 'ct_none', jobId: 'job_8' })).map((e) => e.id), [other.id])

      const erasure = await eraseContactData(store, { workspaceId: ws.id, contactId: 'ct_7', jobId: null }, at(60_001))
      assert.equal(erasure.eventsMatched, 2)
      assert.deepEqual(await store.getErasure(ws.id, erasure.id), erasure)
      assert.equal(await store.getErasure('ws_other', erasure.id), null)

      const erased = JSON.parse((await store.getEvent(ws.id, settled.id))?.body ?? '{}') as Record<string, unknown>
      assert.deepEqual(erased.data, { job_id: 'job_7', contact_id: 'ct_7', campaign_id: 'camp_1', persona_id: 'p_1', contact: { id: 'ct_7' }, erased: true })
      assert.deepEqual(erased.metadata, {})
      assert.equal(erased.event_id, settled.id)
      const erasedOpen = JSON.parse((await store.getEvent(ws.id, open.id))?.body ?? '{}') as Record<string, unknown>
      assert.deepEqual(erasedOpen.data, { call: { id: 'job_7' }, contact: { id: 'ct_7' }, erased: true })
      assert.match((await store.getEvent(ws.id, other.id))?.body ?? '', /keep me/, 'other contacts are untouched')

      assert.equal((await store.listAttempts(settledDelivery.id))[0]?.responseExcerpt, null)
      const ended = await store.getDelivery(ws.id, openDelivery.id)
      assert.equal(ended?.status, 'failed')
      assert.equal(ended?.lastError, ERASED_ERROR)
      assert.equal((await store.getDelivery(ws.id, settledDelivery.id))?.status, 'succeeded', 'settled deliveries keep their status')
      // The worker holding it can neither renew nor settle it.
      assert.deepEqual(await store.renewLeases([inFlight], 30_000, at(60_002)), [])
      const { rejected } = await store.completeAttempts([result(inFlight, { status: 'succeeded' })], at(60_003))
      assert.deepEqual(rejected, [openDelivery.id])
      assert.deepEqual(await store.claimDue(claimOptions(at(10_000_000))), [])
    })

    it('an erased delivery gives up its place in its call\'s queue: the next one of that call goes', async (store) => {
      const { ws, webhooks: [webhook] } = await seed(store)
      assert.ok(webhook !== undefined)
      // A per-call queue: q1 (contact A) is due, q2 (contact B) and q3 wait behind it.
      const events = [{ job_id: 'job_q', contact_id: 'ct_a' }, { job_id: 'job_q', contact_id: 'ct_b' }, { job_id: 'job_q', contact_id: 'ct_b' }]
        .map((data) => callEvent(ws.id, data))
      const deliveries = events.map(() => deliveryTo(webhook, at(0), 4, 'job_q'))
      for (const [i, e] of events.entries()) await store.recordEvent({ event: e, deliveries: [deliveries[i] ?? assert.fail()] })
      const [q1, q2, q3] = deliveries.map((d) => d.id)
      assert.equal((await store.getDelivery(ws.id, q2 ?? ''))?.nextAttemptAt, null, 'q2 waits for q1')

      await eraseContactData(store, { workspaceId: ws.id, contactId: 'ct_a', jobId: null }, at(1_000))
      assert.equal((await store.getDelivery(ws.id, q1 ?? ''))?.lastError, ERASED_ERROR)
      // q2 is due now, q3 still waits behind it.
      const claimed = await store.claimDue(claimOptions(at(1_000)))
      assert.deepEqual(claimed.map((c) => c.deliveryId), [q2])
      assert.equal((await store.getDelivery(ws.id, q3 ?? ''))?.nextAttemptAt, null, 'q3 waits for q2')
    })

    it('lists stored secret fields by id and rewrites a row only while it holds what was read', async (store) => {
      const { webhooks } = await seed(store, 3)
      const [a, b] = webhooks
      assert.ok(a !== undefined && b !== undefined)
      await store.updateWebhook(a.workspaceId, a.id, { signingMethod: 'none', secret: null }, at(1))
      const listed = await store.listStoredSecrets(null, 10)
      assert.deepEqual(listed.map((r) => r.id), webhooks.slice(1).map((w) => w.id).sort())
      assert.deepEqual(listed[0], { id: listed[0]?.id, secret: 'whsec_test-secret', previousSecret: null, headers: null })
      assert.deepEqual(await store.listStoredSecrets(listed[0]?.id ?? null, 10), listed.slice(1))
      const before = { id: b.id, secret: 'whsec_test-secret', previousSecret: null, headers: null }
      const after = { id: b.id, secret: 'sealed-new', previousSecret: 'sealed-old', headers: null }
      assert.equal(await store.rewriteStoredSecrets([{ before, after }]), 1)
      assert.equal(await store.rewriteStoredSecrets([{ before, after: { ...after, secret: 'lost' } }]), 0, 'the row changed since it was read')
      const reread = await store.getWebhook(b.workspaceId, b.id)
      assert.equal(reread?.secret, 'sealed-new')
      assert.equal(reread?.previousSecret, 'sealed-old')
      assert.equal(newId('wh') > b.id, true)
      // Custom header values are secret fields too: a webhook with headers and no secret is listed.
      await store.updateWebhook(a.workspaceId, a.id, { headers: { 'X-Api-Key': 'clear-value', 'X-Team': 'ops' } }, at(2))
      const withHeaders = (await store.listStoredSecrets(null, 10)).find((r) => r.id === a.id)
      assert.ok(withHeaders !== undefined)
      assert.deepEqual(withHeaders, { id: a.id, secret: null, previousSecret: null, headers: { 'X-Api-Key': 'clear-value', 'X-Team': 'ops' } })
      const sealedHeaders = { 'X-Api-Key': 'sealed-1', 'X-Team': 'sealed-2' }
      assert.equal(await store.rewriteStoredSecrets([{ before: withHeaders, after: { ...withHeaders, headers: sealedHeaders } }]), 1)
      assert.equal(await store.rewriteStoredSecrets([{ before: withHeaders, after: { ...withHeaders, headers: { 'X-Api-Key': 'lost' } } }]), 0, 'the row changed since it was read')
      assert.deepEqual((await store.getWebhook(a.workspaceId, a.id))?.headers, sealedHeaders)
    })

    it('keeps a rotation\'s previous secret and expiry, and a delete drops both', async (store) => {
      const { ws, webhooks: [webhook] } = await seed(store)
      assert.ok(webhook !== undefined)
      const updated = await store.updateWebhook(ws.id, webhook.id, { secret: 'whsec_new', previousSecret: 'whsec_test-secret', previousSecretExpiresAt: at(86_400_000) }, at(5))
      assert.equal(updated?.secret, 'whsec_new')
      assert.equal(updated?.previousSecret, 'whsec_test-secret')
      assert.deepEqual(updated?.previousSecretExpiresAt, at(86_400_000))
      await store.deleteWebhook(ws.id, webhook.id, at(6))
      assert.deepEqual(await store.listStoredSecrets(null, 10), [])
    })
  })
}
