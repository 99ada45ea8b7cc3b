import { describe } from 'node:test'
import assert from 'node:assert/strict'
import { healthRule, resolveHealthPolicy } from '../../src/delivery/endpoint-health.js'
import { HEALTHY } from '../../src/store/store.js'
import type { ClaimedDelivery, CliSession, HealthRule, RecordEventInput, SettledAttempt, Store, Webhook } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import {
  at, callOf, claimOptions, deliveryTo, event, eventFor, result, routesVersionOf, seed, storedWebhook, webhookInput, workspace,
} from './store-fixtures.js'
import { waitFor } from '../helpers/wait-for.js'
import { storeTest } from './fresh-store.js'
import type { StoreUnderTest } from './fresh-store.js'

export type { StoreUnderTest } from './fresh-store.js'

/**
 * The behaviour every Store driver must have (src/store/store.ts), as node:test tests. Driver
 * neutral: no SQL, no clock (every time is passed in), no assumption about how a driver runs
 * transactions. Each test gets a fresh store from `makeStore`.
 *
 * @example
 * storeContract('sqlite', async () => { const store = await createSqliteStore({ path }); … })
 */
export function storeContract (name: string, makeStore: () => Promise<StoreUnderTest>): void {
  const it = storeTest(makeStore)

  describe(`Store contract: ${name}`, () => {
    describe('workspaces, keys and settings', () => {
      it('creates, reads and lists workspaces', async (store) => {
        const a = workspace('A')
        const b = { ...workspace('B'), createdAt: at(5) }
        await store.createWorkspace(a)
        await store.createWorkspace(b)
        assert.deepEqual(await store.getWorkspace(a.id), a)
        assert.equal(await store.getWorkspace('ws_missing'), null)
        assert.deepEqual((await store.listWorkspaces()).map((w) => w.id), [a.id, b.id])
        await assert.rejects(store.createWorkspace(a))
      })

      it('finds keys by hash until they are revoked, and lists admin keys apart', async (store) => {
        const ws = workspace()
        await store.createWorkspace(ws)
        const key = { id: newId('key'), workspaceId: ws.id, hash: 'a'.repeat(64), prefix: 'kw_abcd', createdAt: at(1), revokedAt: null }
        const admin = { id: newId('key'), workspaceId: null, hash: 'b'.repeat(64), prefix: 'kw_adm1', createdAt: at(2), revokedAt: null }
        await store.createApiKey(key)
        await store.createApiKey(admin)
        assert.deepEqual(await store.findApiKeyByHash(key.hash), key)
        assert.equal(await store.findApiKeyByHash('c'.repeat(64)), null)
        assert.deepEqual(await store.listApiKeys(ws.id), [key])
        assert.deepEqual(await store.listApiKeys(null), [admin])
        await assert.rejects(store.createApiKey({ ...key, id: newId('key') }), 'hashes are unique')

        assert.equal(await store.revokeApiKey(key.id, at(10)), true)
        assert.equal(await store.findApiKeyByHash(key.hash), null)
        assert.deepEqual(await store.listApiKeys(ws.id), [{ ...key, revokedAt: at(10) }])
        assert.equal(await store.revokeApiKey(key.id, at(11)), false, 'already revoked')
        assert.equal(await store.revokeApiKey('key_missing', at(11)), false)
        assert.deepEqual(await store.findApiKeyByHash(admin.hash), admin)
      })

      it('keeps settings as key/value pairs', async (store) => {
        assert.equal(await store.getSetting('admin_key_hash'), null)
        await store.setSetting('admin_key_hash', 'one')
        await store.setSetting('admin_key_hash', 'two')
        await store.setSetting('other', 'x')
        assert.equal(await store.getSetting('admin_key_hash'), 'two')
        assert.equal(await store.getSetting('other'), 'x')
      })

      it('replaces a setting only while it holds the expected value, and one of racing callers wins', async (store) => {
        assert.equal(await store.replaceSetting('owner', 'a', 'b'), false, 'absent, so it does not hold "a"')
        assert.equal(await store.getSetting('owner'), null)
        const racing = await Promise.all(['p1', 'p2', 'p3'].map(async (v) => await store.replaceSetting('owner', null, v)))
        assert.equal(racing.filter(Boolean).length, 1, 'exactly one of three writers of an absent key wins')
        const winner = await store.getSetting('owner')
        assert.equal(winner, ['p1', 'p2', 'p3'][racing.indexOf(true)])
        assert.equal(await store.replaceSetting('owner', 'stale', 'p4'), false)
        assert.equal(await store.replaceSetting('owner', winner, 'p4'), true)
        assert.equal(await store.getSetting('owner'), 'p4')
      })
    })

    describe('webhooks', () => {
      it('creates a webhook and reads it back whole', async (store) => {
        const { ws } = await seed(store, 0)
        const input = webhookInput(ws.id, {
          name: 'CRM', events: ['call.ended', 'call.analyzed'], signingMethod: 'basic_auth', secret: 'user:pass',
          scopeType: 'persona', personaId: 'persona_1', enabled: false, timeoutMs: 2_000, maxRetries: 0, backoffMs: 100,
        })
        const created = await store.createWebhook(input, at(3))
        assert.deepEqual(created, storedWebhook(input, at(3)))
        assert.deepEqual(await store.getWebhook(ws.id, input.id), created)
        await assert.rejects(store.createWebhook(input, at(4)), 'ids are unique')
      })

      it('lists subscriptions oldest first', async (store) => {
        const { ws } = await seed(store, 0)
        const late = await store.createWebhook(webhookInput(ws.id), at(50))
        const early = await store.createWebhook(webhookInput(ws.id), at(10))
        assert.deepEqual((await store.listWebhooks(ws.id)).map((w) => w.id), [early.id, late.id])
      })

      it('updates only the patched fields', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const updated = await store.updateWebhook(ws.id, hook.id, { url: 'https://example.org/new', enabled: false, events: ['call.started'], name: null }, at(100))
        assert.deepEqual(updated, { ...hook, url: 'https://example.org/new', enabled: false, disabledReason: 'manual', disabledAt: at(100), events: ['call.started'], name: null, updatedAt: at(100) })
        assert.deepEqual(await store.getWebhook(ws.id, hook.id), updated)
        const again = await store.updateWebhook(ws.id, hook.id, { maxRetries: 5, timeoutMs: 9_000, backoffMs: 250, personaId: 'p', scopeType: 'persona', signingMethod: 'none', secret: null }, at(200))
        assert.deepEqual(again, { ...updated, maxRetries: 5, timeoutMs: 9_000, backoffMs: 250, personaId: 'p', scopeType: 'persona', signingMethod: 'none', secret: null, updatedAt: at(200) })
        assert.equal(await store.updateWebhook(ws.id, 'wh_missing', { enabled: true }, at(300)), null)
      })

      it('deletes a webhook and ends its pending deliveries as failed; its log stays readable', async (store) => {
        const { ws, webhooks: [hook, other] } = await seed(store, 2)
        assert.ok(hook && other)
        const done = eventFor([hook])
        const pending = eventFor([hook, other])
        const queued = eventFor([hook])
        for (const input of [done, pending, queued]) await store.recordEvent(input)
        const [first] = await store.claimDue(claimOptions(at(10), { limit: 1 }))
        assert.ok(first)
        assert.equal(first.deliveryId, done.deliveries[0]?.id)
        await store.completeAttempts([result(first, { status: 'succeeded' })], at(20))
        const leased = await store.claimDue(claimOptions(at(30), { excludeWebhookIds: [other.id], limit: 1 }))
        assert.equal(leased[0]?.deliveryId, pending.deliveries[0]?.id)

        assert.equal(await store.deleteWebhook(ws.id, hook.id, at(40)), true)
        assert.equal(await store.getWebhook(ws.id, hook.id), null)
        assert.deepEqual((await store.listWebhooks(ws.id)).map((w) => w.id), [other.id])
        for (const input of [pending, queued]) {
          const delivery = await store.getDelivery(ws.id, input.deliveries[0]?.id ?? '')
          assert.equal(delivery?.status, 'failed')
          assert.equal(delivery?.lastError, 'webhook deleted')
          assert.equal(delivery?.nextAttemptAt, null)
        }
        assert.equal((await store.getDelivery(ws.id, done.deliveries[0]?.id ?? ''))?.status, 'succeeded')
        assert.equal((await store.getDelivery(ws.id, pending.deliveries[1]?.id ?? ''))?.status, 'pending', "other webhooks' deliveries are untouched")
        const claimable = await store.claimDue(claimOptions(at(1_000_000)))
        assert.deepEqual(claimable.map((c) => c.deliveryId), [pending.deliveries[1]?.id])
        const log = await store.listDeliveries({ workspaceId: ws.id, webhookId: hook.id, limit: 10 })
        assert.equal(log.data.length, 3)
        assert.equal(await store.deleteWebhook(ws.id, hook.id, at(50)), false, 'already deleted')
      })

      it("cannot read, change or delete another workspace's webhook", async (store) => {
        const { webhooks: [hook] } = await seed(store, 1)
        const { ws: stranger } = await seed(store, 0)
        assert.ok(hook)
        assert.equal(await store.getWebhook(stranger.id, hook.id), null)
        assert.equal(await store.updateWebhook(stranger.id, hook.id, { enabled: false }, at(5)), null)
        assert.equal(await store.deleteWebhook(stranger.id, hook.id, at(5)), false)
        assert.deepEqual(await store.listWebhooks(stranger.id), [])
        assert.equal((await store.getWebhook(hook.workspaceId, hook.id))?.enabled, true)
      })
    })

    describe('calls and inline webhooks', () => {
      it('registers a call with inline webhooks, which stay out of webhook listings', async (store) => {
        const { ws, webhooks: [subscription] } = await seed(store, 1)
        assert.ok(subscription)
        const jobId = newId('job')
        const inline = webhookInput(ws.id, { jobId, events: ['call.ended'] })
        await store.createCall({ workspaceId: ws.id, jobId, personaId: 'persona_9', hasInlineWebhooks: true, createdAt: at(7) }, [inline])
        assert.deepEqual(await callOf(store, ws.id, jobId), { workspaceId: ws.id, jobId, personaId: 'persona_9', hasInlineWebhooks: true, createdAt: at(7) })
        assert.deepEqual(await store.listInlineWebhooks(ws.id, jobId), [storedWebhook(inline, at(7))])
        assert.deepEqual((await store.listWebhooks(ws.id)).map((w) => w.id), [subscription.id])
        assert.equal(await callOf(store, ws.id, 'job_missing'), null)
        const { ws: stranger } = await seed(store, 0)
        assert.equal(await callOf(store, stranger.id, jobId), null)
        assert.deepEqual(await store.listInlineWebhooks(stranger.id, jobId), [])

        const [inlineHook] = await store.listInlineWebhooks(ws.id, jobId)
        assert.ok(inlineHook)
        const input = eventFor([inlineHook, subscription])
        await store.recordEvent(input)
        const [toInline, toSubscription] = input.deliveries
        assert.equal((await store.getDelivery(ws.id, toInline?.id ?? ''))?.inline, true)
        assert.equal((await store.getDelivery(ws.id, toSubscription?.id ?? ''))?.inline, false)
        const listed = await store.listDeliveries({ workspaceId: ws.id, limit: 10 })
        assert.deepEqual(new Map(listed.data.map((d) => [d.id, d.inline])), new Map([[toInline?.id, true], [toSubscription?.id, false]]))
      })

      it('remembers the persona of a call from its events: the latest non-null one wins, null never erases', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const jobId = newId('job')
        await store.recordEvent({ ...eventFor(webhooks), call: { jobId, personaId: 'persona_1' } })
        assert.deepEqual(await callOf(store, ws.id, jobId), { workspaceId: ws.id, jobId, personaId: 'persona_1', hasInlineWebhooks: false, createdAt: at(0) })
        await store.recordEvent({ ...eventFor(webhooks), call: { jobId, personaId: null } })
        assert.equal((await callOf(store, ws.id, jobId))?.personaId, 'persona_1')
        const unknownPersona = newId('job')
        await store.recordEvent({ ...eventFor(webhooks), call: { jobId: unknownPersona, personaId: null } })
        assert.equal((await callOf(store, ws.id, unknownPersona))?.personaId, null)
        await store.recordEvent({ ...eventFor(webhooks), call: { jobId: unknownPersona, personaId: 'persona_2' } })
        assert.equal((await callOf(store, ws.id, unknownPersona))?.personaId, 'persona_2')
        // The latest non-null persona wins (both drivers; PostgreSQL used to keep the first).
        await store.recordEvent({ ...eventFor(webhooks), call: { jobId, personaId: 'persona_3' } })
        assert.equal((await callOf(store, ws.id, jobId))?.personaId, 'persona_3')
        await store.recordEvent({ ...eventFor(webhooks), call: { jobId, personaId: null } })
        assert.equal((await callOf(store, ws.id, jobId))?.personaId, 'persona_3')
      })

      it('applies the same persona rule to events of one call recorded at the same time, in call order', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const jobId = newId('job')
        const personas = ['persona_1', null, 'persona_2', null]
        // Called in one turn: a driver that groups them (PostgreSQL) must keep the order.
        await Promise.all(personas.map(async (personaId) => await store.recordEvent({ ...eventFor(webhooks), call: { jobId, personaId } })))
        assert.equal((await callOf(store, ws.id, jobId))?.personaId, 'persona_2')
        await Promise.all([null, null].map(async (personaId) => await store.recordEvent({ ...eventFor(webhooks), call: { jobId, personaId } })))
        assert.equal((await callOf(store, ws.id, jobId))?.personaId, 'persona_2')
      })
    })

    describe('recording events', () => {
      it('stores the event body exactly and one pending delivery per webhook', async (store) => {
        const { ws, webhooks } = await seed(store, 2)
        const input = eventFor(webhooks, { type: 'call.started', dueAt: at(5) })
        assert.deepEqual(await store.recordEvent(input), { created: true, eventId: input.event.id, deliveries: 2 })
        assert.deepEqual(await store.getEvent(ws.id, input.event.id), input.event)
        for (const [i, planned] of input.deliveries.entries()) {
          const hook = webhooks[i]
          assert.ok(hook)
          assert.deepEqual(await store.getDelivery(ws.id, planned.id), {
            id: planned.id,
            eventId: input.event.id,
            eventType: 'call.started',
            workspaceId: ws.id,
            webhookId: hook.id,
            inline: false,
            url: hook.url,
            status: 'pending',
            attemptCount: 0,
            maxAttempts: 4,
            nextAttemptAt: at(5),
            lastError: null,
            lastStatusCode: null,
            createdAt: at(5),
            updatedAt: at(5),
          })
          assert.deepEqual(await store.listAttempts(planned.id), [])
        }
      })

      it('records an event id once per workspace: a repeat writes nothing', async (store) => {
        const { ws, webhooks } = await seed(store, 2)
        const input = eventFor(webhooks)
        await store.recordEvent(input)
        const [hook] = webhooks
        assert.ok(hook)
        const jobId = newId('job')
        const repeat = { event: { ...input.event, body: '{"changed":true}' }, deliveries: [deliveryTo(hook), deliveryTo(hook), deliveryTo(hook)], call: { jobId, personaId: 'p' } }
        assert.deepEqual(await store.recordEvent(repeat), { created: false, eventId: input.event.id, deliveries: 2 })
        assert.equal((await store.getEvent(ws.id, input.event.id))?.body, input.event.body)
        assert.equal((await store.listDeliveries({ workspaceId: ws.id, limit: 10 })).data.length, 2)
        assert.equal(await callOf(store, ws.id, jobId), null)
        for (const planned of repeat.deliveries) assert.equal(await store.getDelivery(ws.id, planned.id), null)

        const { ws: other, webhooks: otherHooks } = await seed(store, 1)
        const [otherHook] = otherHooks
        assert.ok(otherHook)
        const sameIdElsewhere = { event: { ...input.event, workspaceId: other.id }, deliveries: [deliveryTo(otherHook)] }
        assert.deepEqual(await store.recordEvent(sameIdElsewhere), { created: true, eventId: input.event.id, deliveries: 1 })
        assert.equal((await store.getEvent(other.id, input.event.id))?.workspaceId, other.id)
        assert.equal((await store.getEvent(ws.id, input.event.id))?.workspaceId, ws.id)
      })

      it('leaves nothing behind when recording fails midway', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const first = deliveryTo(hook)
        const jobId = newId('job')
        const broken = { event: event(ws.id), deliveries: [first, deliveryTo(hook), { ...first }], call: { jobId, personaId: 'p' } }
        await assert.rejects(store.recordEvent(broken))
        assert.equal(await store.getEvent(ws.id, broken.event.id), null)
        assert.equal(await store.getDelivery(ws.id, first.id), null)
        assert.equal(await callOf(store, ws.id, jobId), null)
        assert.deepEqual((await store.listDeliveries({ workspaceId: ws.id, limit: 10 })).data, [])
        assert.equal((await store.queueStats(at(0), at(0))).pending, 0)
        const fixed = { ...broken, deliveries: [first] }
        assert.deepEqual(await store.recordEvent(fixed), { created: true, eventId: broken.event.id, deliveries: 1 })
      })

      it('records concurrent events independently: one failing does not take the others down', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const good = Array.from({ length: 12 }, () => eventFor([hook]))
        const clash = deliveryTo(hook)
        const bad = { event: event(ws.id), deliveries: [clash, { ...clash }] }
        const first = good[0]
        assert.ok(first)
        const repeat = { event: first.event, deliveries: [deliveryTo(hook)] }
        const outcomes = await Promise.allSettled([...good.map((input) => store.recordEvent(input)), store.recordEvent(bad), store.recordEvent(repeat)])
        for (const [i, input] of good.entries()) {
          assert.deepEqual(outcomes[i], { status: 'fulfilled', value: { created: true, eventId: input.event.id, deliveries: 1 } })
          assert.notEqual(await store.getDelivery(ws.id, input.deliveries[0]?.id ?? ''), null)
        }
        assert.equal(outcomes[12]?.status, 'rejected')
        assert.equal(await store.getEvent(ws.id, bad.event.id), null)
        assert.deepEqual(outcomes[13], { status: 'fulfilled', value: { created: false, eventId: first.event.id, deliveries: 1 } })
        assert.equal((await store.queueStats(at(0), at(0))).pending, 12)
      })

      it('records an event with no deliveries', async (store) => {
        const { ws } = await seed(store, 0)
        const input = { event: event(ws.id), deliveries: [] }
        assert.deepEqual(await store.recordEvent(input), { created: true, eventId: input.event.id, deliveries: 0 })
        assert.deepEqual(await store.recordEvent(input), { created: false, eventId: input.event.id, deliveries: 0 })
      })

      it("cannot read another workspace's events, deliveries or attempts' deliveries", async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const { ws: stranger } = await seed(store, 0)
        const input = eventFor(webhooks)
        await store.recordEvent(input)
        const deliveryId = input.deliveries[0]?.id ?? ''
        assert.equal(await store.getEvent(stranger.id, input.event.id), null)
        assert.equal(await store.getDelivery(stranger.id, deliveryId), null)
        assert.equal(await store.retryDelivery(stranger.id, deliveryId, at(5)), null)
        assert.deepEqual((await store.listDeliveries({ workspaceId: stranger.id, limit: 10 })).data, [])
        assert.deepEqual((await store.listDeliveries({ workspaceId: stranger.id, eventId: input.event.id, limit: 10 })).data, [])
        assert.equal((await store.getDelivery(ws.id, deliveryId))?.status, 'pending')
      })
    })

    describe('claiming', () => {
      it('records a delivery already leased (a handoff): not claimable while the lease holds, settled with its token, claimable once it runs out', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const input = eventFor([hook], { dueAt: at(0) })
        const handed = input.deliveries[0]
        assert.ok(handed)
        handed.lease = { token: 'lease-handed', owner: 'engine-a', expiresAt: at(1_000) }
        const free = eventFor([hook], { dueAt: at(0) })
        let wakes = 0
        const stop = store.onWork(() => { wakes++ })
        await store.recordEvent(input)
        // Time for a notification's round trip (PostgreSQL wakes through NOTIFY as well).
        await new Promise((resolve) => setTimeout(resolve, 300))
        assert.equal(wakes, 0, 'work that is all leased wakes no engine: it is its owner\'s already')
        await store.recordEvent(free)
        await waitFor('a wake-up for free work', () => wakes > 0, 10_000)
        stop()
        const claimed = await store.claimDue(claimOptions(at(10), { owner: 'engine-b' }))
        assert.deepEqual(claimed.map((c) => c.deliveryId), [free.deliveries[0]?.id], 'the leased one is its owner\'s')
        const later = await store.claimDue(claimOptions(at(1_000), { owner: 'engine-b' }))
        assert.deepEqual(later.map((c) => c.deliveryId), [handed.id], 'a lease that ran out (its owner died) is anyone\'s: at least once')
        const stale = await store.completeAttempts([{ ...result(later[0] as ClaimedDelivery, { status: 'succeeded' }), leaseToken: 'lease-handed' }], at(1_001))
        assert.deepEqual(stale.rejected, [handed.id], 'the first lease was taken over: its token settles nothing')
        await store.completeAttempts([result(later[0] as ClaimedDelivery, { status: 'succeeded' })], at(1_002))
        assert.equal((await store.getDelivery(ws.id, handed.id))?.status, 'succeeded')

        const again = eventFor([hook], { dueAt: at(2_000) })
        const own = again.deliveries[0]
        assert.ok(own)
        own.lease = { token: 'lease-own', owner: 'engine-a', expiresAt: at(30_000) }
        await store.recordEvent(again)
        const ownClaim = { deliveryId: own.id, leaseToken: 'lease-own', attempt: 1 } as ClaimedDelivery
        const done = await store.completeAttempts([result(ownClaim, { status: 'succeeded' })], at(2_010))
        assert.deepEqual(done.rejected, [], 'its owner settles it with the token it was recorded with')
        assert.equal((await store.getDelivery(ws.id, own.id))?.status, 'succeeded')
      })

      it('claims due deliveries in due order, up to the limit, with what is needed to send them', async (store) => {
        const { ws, webhooks: [a, b] } = await seed(store, 2)
        assert.ok(a && b)
        const late = eventFor([a], { dueAt: at(30) })
        const tieFirst = eventFor([b], { dueAt: at(10) })
        const tieSecond = eventFor([a], { dueAt: at(10) })
        const future = eventFor([a], { dueAt: at(5_000) })
        for (const input of [late, tieFirst, tieSecond, future]) await store.recordEvent(input)
        // The webhook as it is now, not as it was when the event was accepted.
        const moved = await store.updateWebhook(ws.id, a.id, { url: 'https://example.com/moved' }, at(50))

        const batch = await store.claimDue(claimOptions(at(100), { limit: 2 }))
        assert.deepEqual(batch.map((c) => c.deliveryId), [tieFirst.deliveries[0]?.id, tieSecond.deliveries[0]?.id])
        const [one, two] = batch
        assert.ok(one && two)
        assert.equal(one.eventId, tieFirst.event.id)
        assert.equal(one.eventType, 'call.ended')
        assert.equal(one.body, tieFirst.event.body)
        assert.equal(one.attempt, 1)
        assert.equal(one.maxAttempts, 4)
        assert.deepEqual(one.webhook, b)
        assert.deepEqual(two.webhook, moved)
        assert.equal(typeof one.leaseToken, 'string')
        assert.ok(one.leaseToken.length > 0)
        assert.notEqual(one.leaseToken, two.leaseToken)

        const rest = await store.claimDue(claimOptions(at(100)))
        assert.deepEqual(rest.map((c) => c.deliveryId), [late.deliveries[0]?.id], 'leased and not-yet-due deliveries are left')
        assert.deepEqual(await store.claimDue(claimOptions(at(100))), [])
        const due = await store.claimDue(claimOptions(at(5_000)))
        assert.deepEqual(due.map((c) => c.deliveryId), [future.deliveries[0]?.id])
        assert.deepEqual(await store.claimDue(claimOptions(at(5_000), { limit: 0 })), [])
      })

      it('leaves deliveries of excluded webhooks for later', async (store) => {
        const { webhooks: [a, b, c] } = await seed(store, 3)
        assert.ok(a && b && c)
        const input = eventFor([a, b, c])
        await store.recordEvent(input)
        const claimed = await store.claimDue(claimOptions(at(10), { excludeWebhookIds: [a.id, c.id] }))
        assert.deepEqual(claimed.map((d) => d.webhook?.id), [b.id])
        const later = await store.claimDue(claimOptions(at(10), { excludeWebhookIds: [] }))
        assert.deepEqual(later.map((d) => d.webhook?.id).sort(), [a.id, c.id].sort())
      })

      it('never gives the same delivery to two concurrent claims', async (store) => {
        const { webhooks } = await seed(store, 3)
        const all: string[] = []
        for (let i = 0; i < 8; i++) {
          const input = eventFor(webhooks, { dueAt: at(i) })
          await store.recordEvent(input)
          all.push(...input.deliveries.map((d) => d.id))
        }
        const batches = await Promise.all([1, 2, 3, 4].map((n) => store.claimDue(claimOptions(at(100), { limit: 7, owner: `worker-${n}` }))))
        const claimed = batches.flat().map((c) => c.deliveryId)
        assert.equal(new Set(claimed).size, claimed.length, 'no delivery twice')
        assert.deepEqual([...claimed].sort(), [...all].sort())
        assert.equal(claimed.length, 24, 'four claims of 7 take all 24')
        assert.deepEqual(await store.claimDue(claimOptions(at(100))), [])
      })

      it('gives an expired lease to the next claim with a new token, and fences off the old one', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const input = eventFor(webhooks)
        await store.recordEvent(input)
        const [first] = await store.claimDue(claimOptions(at(1_000), { leaseMs: 1_000, owner: 'crashed' }))
        assert.ok(first)
        assert.deepEqual(await store.claimDue(claimOptions(at(1_500))), [], 'a live lease is respected')
        const [second] = await store.claimDue(claimOptions(at(2_001), { owner: 'survivor' }))
        assert.ok(second)
        assert.equal(second.deliveryId, first.deliveryId)
        assert.notEqual(second.leaseToken, first.leaseToken)
        assert.equal(second.attempt, 1, 'no attempt was recorded by the crashed worker')

        const stale = await store.completeAttempts([result(first, { status: 'succeeded' })], at(2_100))
        assert.deepEqual(stale.rejected, [first.deliveryId])
        assert.deepEqual(await store.listAttempts(first.deliveryId), [], 'a rejected result writes nothing')
        const delivery = await store.getDelivery(ws.id, first.deliveryId)
        assert.equal(delivery?.status, 'pending')
        assert.equal(delivery?.attemptCount, 0)
        assert.deepEqual(await store.renewLeases([{ deliveryId: first.deliveryId, leaseToken: first.leaseToken }], 1_000, at(2_100)), [])

        const fresh = await store.completeAttempts([result(second, { status: 'succeeded' }, { statusCode: 204 })], at(2_200))
        assert.deepEqual(fresh.rejected, [])
        assert.equal((await store.getDelivery(ws.id, first.deliveryId))?.status, 'succeeded')
      })

      it('renews live leases and checks their tokens', async (store) => {
        const { webhooks } = await seed(store, 1)
        const input = eventFor(webhooks)
        await store.recordEvent(input)
        const [claimed] = await store.claimDue(claimOptions(at(0), { leaseMs: 1_000 }))
        assert.ok(claimed)
        const ref = { deliveryId: claimed.deliveryId, leaseToken: claimed.leaseToken }
        assert.deepEqual(await store.renewLeases([ref, { deliveryId: claimed.deliveryId, leaseToken: 'not-the-token' }, { deliveryId: 'dlv_missing', leaseToken: 'x' }], 1_000, at(900)), [claimed.deliveryId])
        assert.deepEqual(await store.claimDue(claimOptions(at(1_500))), [], 'renewed until 1900')
        assert.equal((await store.claimDue(claimOptions(at(1_901))))[0]?.deliveryId, claimed.deliveryId)
      })

      it('hands released leases back, due at once, without counting an attempt', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const input = eventFor(webhooks, { dueAt: at(10) })
        await store.recordEvent(input)
        const [claimed] = await store.claimDue(claimOptions(at(100), { leaseMs: 60_000 }))
        assert.ok(claimed)
        await store.releaseLeases([{ deliveryId: claimed.deliveryId, leaseToken: 'not-the-token' }])
        assert.deepEqual(await store.claimDue(claimOptions(at(200))), [], 'a wrong token releases nothing')
        await store.releaseLeases([{ deliveryId: claimed.deliveryId, leaseToken: claimed.leaseToken }])
        const [again] = await store.claimDue(claimOptions(at(200)))
        assert.equal(again?.deliveryId, claimed.deliveryId)
        assert.equal(again?.attempt, 1)
        assert.notEqual(again?.leaseToken, claimed.leaseToken)
        assert.equal((await store.getDelivery(ws.id, claimed.deliveryId))?.attemptCount, 0)
      })
    })

    describe('settling attempts', () => {
      it('records each attempt and keeps the delivery consistent with it', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const input = eventFor(webhooks, { dueAt: at(0) })
        await store.recordEvent(input)
        const id = input.deliveries[0]?.id ?? ''

        const [first] = await store.claimDue(claimOptions(at(100)))
        assert.ok(first)
        const retryAt = at(1_600)
        const r1 = await store.completeAttempts([result(first, { status: 'pending', nextAttemptAt: retryAt }, {
          startedAt: at(100), durationMs: 1_000, statusCode: 503, error: 'HTTP 503', responseExcerpt: 'busy',
        })], at(1_100))
        assert.deepEqual(r1.rejected, [])
        let delivery = await store.getDelivery(ws.id, id)
        assert.equal(delivery?.status, 'pending')
        assert.equal(delivery?.attemptCount, 1)
        assert.deepEqual(delivery?.nextAttemptAt, retryAt)
        assert.equal(delivery?.lastStatusCode, 503)
        assert.equal(delivery?.lastError, 'HTTP 503')
        assert.deepEqual(delivery?.updatedAt, at(1_100))
        assert.deepEqual(await store.claimDue(claimOptions(at(1_500))), [], 'not before the retry is due')

        const [second] = await store.claimDue(claimOptions(at(1_600)))
        assert.ok(second)
        assert.equal(second.attempt, 2)
        await store.completeAttempts([result(second, { status: 'succeeded' }, {
          startedAt: at(1_600), durationMs: 30, statusCode: 200, error: null, responseExcerpt: '{"ok":true}',
        })], at(1_630))
        delivery = await store.getDelivery(ws.id, id)
        assert.equal(delivery?.status, 'succeeded')
        assert.equal(delivery?.attemptCount, 2)
        assert.equal(delivery?.nextAttemptAt, null)
        assert.equal(delivery?.lastStatusCode, 200)

        const attempts = await store.listAttempts(id)
        assert.deepEqual(attempts.map(({ id: attemptId, ...rest }) => { assert.equal(typeof attemptId, 'string'); return rest }), [
          { deliveryId: id, attempt: 1, startedAt: at(100), durationMs: 1_000, statusCode: 503, error: 'HTTP 503', responseExcerpt: 'busy' },
          { deliveryId: id, attempt: 2, startedAt: at(1_600), durationMs: 30, statusCode: 200, error: null, responseExcerpt: '{"ok":true}' },
        ])
        assert.notEqual(attempts[0]?.id, attempts[1]?.id)
        assert.deepEqual(await store.claimDue(claimOptions(at(1_000_000))), [], 'a settled delivery is never claimed')
        const late = await store.completeAttempts([result(second, { status: 'failed' })], at(2_000))
        assert.deepEqual(late.rejected, [id], 'a settled lease cannot settle twice')
      })

      it('settles a batch in one call, rejecting only the results whose lease was lost', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const inputs = [eventFor(webhooks), eventFor(webhooks), eventFor(webhooks)]
        for (const input of inputs) await store.recordEvent(input)
        const [a, b, c] = await store.claimDue(claimOptions(at(0), { leaseMs: 100 }))
        assert.ok(a && b && c)
        const [bAgain] = await store.claimDue(claimOptions(at(150), { limit: 1 }))
        assert.ok(bAgain)
        assert.equal(bAgain.deliveryId, a.deliveryId, 'the earliest expired lease is claimed first')
        // a's lease was taken over; b and c expired but nobody claimed them, so their tokens still hold.
        const { rejected } = await store.completeAttempts([
          result(a, { status: 'succeeded' }),
          result(b, { status: 'failed' }, { statusCode: 410, error: null }),
          result(c, { status: 'pending', nextAttemptAt: at(5_000) }, { statusCode: null, error: 'connect ECONNREFUSED' }),
        ], at(200))
        assert.deepEqual(rejected, [a.deliveryId])
        assert.equal((await store.getDelivery(ws.id, a.deliveryId))?.attemptCount, 0)
        assert.equal((await store.listAttempts(a.deliveryId)).length, 0)
        assert.equal((await store.getDelivery(ws.id, b.deliveryId))?.status, 'failed')
        assert.equal((await store.getDelivery(ws.id, b.deliveryId))?.lastStatusCode, 410)
        const cNow = await store.getDelivery(ws.id, c.deliveryId)
        assert.equal(cNow?.status, 'pending')
        assert.equal(cNow?.lastError, 'connect ECONNREFUSED')
        assert.equal(cNow?.lastStatusCode, null)
        assert.equal((await store.listAttempts(b.deliveryId)).length, 1)
        assert.equal((await store.listAttempts(c.deliveryId)).length, 1)
        assert.deepEqual((await store.completeAttempts([], at(300))).rejected, [])
      })

      it('reads the attempts of many deliveries in one call, grouped by delivery and in attempt order', async (store) => {
        const { webhooks } = await seed(store, 1)
        for (let i = 0; i < 3; i++) await store.recordEvent(eventFor(webhooks))
        const [a, b, c] = await store.claimDue(claimOptions(at(0)))
        assert.ok(a && b && c)
        await store.completeAttempts([
          result(a, { status: 'pending', nextAttemptAt: at(100) }, { statusCode: 503 }),
          result(b, { status: 'succeeded' }),
        ], at(50))
        const [aAgain] = await store.claimDue(claimOptions(at(100)))
        assert.ok(aAgain)
        await store.completeAttempts([result(aAgain, { status: 'succeeded' }, { startedAt: at(100) })], at(150))
        const all = await store.attemptsOf([a.deliveryId, b.deliveryId, c.deliveryId, 'dlv_unknown'])
        assert.deepEqual([...all.keys()].sort(), [a.deliveryId, b.deliveryId, c.deliveryId, 'dlv_unknown'].sort())
        assert.deepEqual(all.get(a.deliveryId)?.map((x) => [x.deliveryId, x.attempt, x.statusCode]), [[a.deliveryId, 1, 503], [a.deliveryId, 2, 200]])
        assert.deepEqual(all.get(b.deliveryId)?.map((x) => x.attempt), [1])
        assert.deepEqual(all.get(c.deliveryId), [])
        assert.deepEqual(all.get('dlv_unknown'), [])
        assert.deepEqual(await store.listAttempts(a.deliveryId), all.get(a.deliveryId))
        assert.deepEqual((await store.attemptsOf([])).size, 0)
      })

      it('stores attempt durations as whole milliseconds, never negative', async (store) => {
        const { webhooks } = await seed(store, 1)
        await store.recordEvent(eventFor(webhooks))
        await store.recordEvent(eventFor(webhooks))
        const [a, b] = await store.claimDue(claimOptions(at(0)))
        assert.ok(a && b)
        await store.completeAttempts([
          result(a, { status: 'succeeded' }, { durationMs: -5.4 }),
          result(b, { status: 'succeeded' }, { durationMs: 12.6 }),
        ], at(50))
        assert.equal((await store.listAttempts(a.deliveryId))[0]?.durationMs, 0)
        assert.equal((await store.listAttempts(b.deliveryId))[0]?.durationMs, 13)
      })

      it('retries a settled delivery once more, due now', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const input = eventFor(webhooks)
        await store.recordEvent(input)
        const id = input.deliveries[0]?.id ?? ''
        const [claimed] = await store.claimDue(claimOptions(at(0)))
        assert.ok(claimed)
        await store.completeAttempts([result(claimed, { status: 'failed' }, { statusCode: 404, error: null })], at(50))

        let woken = 0
        const stop = store.onWork(() => { woken++ })
        try {
          const retried = await store.retryDelivery(ws.id, id, at(10_000))
          assert.equal(retried?.status, 'pending')
          assert.deepEqual(retried?.nextAttemptAt, at(10_000))
          assert.equal(retried?.attemptCount, 1)
          assert.equal(retried?.maxAttempts, 2, 'a manual retry is one more attempt')
          assert.deepEqual(await store.getDelivery(ws.id, id), retried)
          await waitFor('onWork to be called', () => woken > 0)
        } finally {
          stop()
        }
        assert.equal(await store.retryDelivery(ws.id, 'dlv_missing', at(10_000)), null)
        const [again] = await store.claimDue(claimOptions(at(10_000)))
        assert.equal(again?.deliveryId, id)
        assert.equal(again?.attempt, 2)
        assert.equal(again?.maxAttempts, 2)
        assert.ok(again)
        await store.completeAttempts([result(again, { status: 'succeeded' })], at(10_100))
        assert.equal((await store.getDelivery(ws.id, id))?.status, 'succeeded')
        assert.deepEqual((await store.listAttempts(id)).map((a) => a.attempt), [1, 2])
      })

      it('fences off a worker holding a delivery that is retried meanwhile', async (store) => {
        const { ws, webhooks } = await seed(store, 1)
        const input = eventFor(webhooks)
        await store.recordEvent(input)
        const [held] = await store.claimDue(claimOptions(at(0)))
        assert.ok(held)
        await store.retryDelivery(ws.id, held.deliveryId, at(10))
        const { rejected } = await store.completeAttempts([result(held, { status: 'succeeded' })], at(20))
        assert.deepEqual(rejected, [held.deliveryId])
        const [next] = await store.claimDue(claimOptions(at(20)))
        assert.equal(next?.deliveryId, held.deliveryId)
      })
    })

    describe('listing deliveries', () => {
      it('pages newest first with cursors, with every filter', async (store) => {
        const { ws, webhooks: [a, b] } = await seed(store, 2)
        assert.ok(a && b)
        const inputs = []
        for (let i = 0; i < 7; i++) {
          const input = eventFor([a, b], { type: i % 2 === 0 ? 'call.ended' : 'call.started', dueAt: at(i) })
          await store.recordEvent(input)
          inputs.push(input)
        }
        const allIds = inputs.flatMap((input) => input.deliveries.map((d) => d.id)).reverse()
        // Settle a's deliveries of the first three events.
        const toSettle = new Set(inputs.slice(0, 3).map((input) => input.deliveries[0]?.id))
        const claimed = await store.claimDue(claimOptions(at(100)))
        await store.completeAttempts(claimed.filter((c) => toSettle.has(c.deliveryId)).map((c) => result(c, { status: 'succeeded' })), at(200))
        await store.releaseLeases(claimed.filter((c) => !toSettle.has(c.deliveryId)))

        async function collect (filter: Omit<Parameters<Store['listDeliveries']>[0], 'workspaceId' | 'cursor'>): Promise<{ ids: string[], pages: number }> {
          const ids: string[] = []
          let cursor: string | undefined
          let pages = 0
          do {
            const page = await store.listDeliveries({ workspaceId: ws.id, ...filter, ...(cursor === undefined ? {} : { cursor }) })
            pages++
            assert.ok(page.data.length <= filter.limit)
            ids.push(...page.data.map((d) => d.id))
            cursor = page.nextCursor ?? undefined
            assert.ok(pages < 50, 'paging terminates')
          } while (cursor !== undefined)
          return { ids, pages }
        }

        assert.deepEqual(await collect({ limit: 3 }), { ids: allIds, pages: 5 })
        assert.deepEqual(await collect({ limit: 100 }), { ids: allIds, pages: 1 })
        const aIds = inputs.map((input) => input.deliveries[0]?.id ?? '').reverse()
        assert.deepEqual(await collect({ limit: 2, webhookId: a.id }), { ids: aIds, pages: 4 })
        assert.deepEqual(await collect({ limit: 2, webhookId: a.id, status: 'pending' }), { ids: aIds.slice(0, 4), pages: 2 })
        assert.deepEqual(await collect({ limit: 3, status: 'succeeded' }), { ids: aIds.slice(4), pages: 1 }, 'a full last page has no next cursor')
        const endedIds = inputs.filter((_, i) => i % 2 === 0).flatMap((input) => input.deliveries.map((d) => d.id)).reverse()
        assert.deepEqual(await collect({ limit: 3, eventType: 'call.ended' }), { ids: endedIds, pages: 3 })
        const third = inputs[2]
        assert.ok(third)
        assert.deepEqual(await collect({ limit: 1, eventId: third.event.id }), { ids: third.deliveries.map((d) => d.id).reverse(), pages: 2 })
        assert.deepEqual(await collect({ limit: 5, webhookId: b.id, status: 'succeeded' }), { ids: [], pages: 1 })

        const [newest] = (await store.listDeliveries({ workspaceId: ws.id, limit: 1 })).data
        assert.equal(newest?.webhookId, b.id)
        assert.equal(newest?.eventType, 'call.ended')
        await assert.rejects(store.listDeliveries({ workspaceId: ws.id, limit: 2, cursor: '%%%not-a-cursor' }))
        // One cursor format on every store: base64url of "v1:<last id of the page>".
        const firstPage = await store.listDeliveries({ workspaceId: ws.id, limit: 1 })
        assert.equal(firstPage.nextCursor, Buffer.from(`v1:${newest?.id ?? ''}`).toString('base64url'))
        for (const forged of [Buffer.from(newest?.id ?? '').toString('base64url'), Buffer.from('v1:').toString('base64url'), `${firstPage.nextCursor ?? ''}=`]) {
          await assert.rejects(store.listDeliveries({ workspaceId: ws.id, limit: 2, cursor: forged }), { code: 'VALIDATION' }, forged)
        }
      })
    })

    describe('endpoint health', () => {

      it('parks a disabled webhook\'s free pending deliveries, leaves one in flight, and replays them oldest first', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const inputs = [eventFor([hook]), eventFor([hook]), eventFor([hook])]
        for (const input of inputs) await store.recordEvent(input)
        const [inFlight] = await store.claimDue(claimOptions(at(1), { limit: 1 }))
        assert.equal(inFlight?.deliveryId, inputs[0]?.deliveries[0]?.id)

        const disabled = await store.disableWebhook(ws.id, hook.id, 'manual', at(10))
        assert.equal(disabled?.enabled, false)
        assert.equal(disabled?.disabledReason, 'manual')
        assert.deepEqual(disabled?.disabledAt, at(10))
        assert.equal((await store.getDelivery(ws.id, inputs[0]?.deliveries[0]?.id ?? ''))?.status, 'pending', 'an attempt in flight finishes')
        const parked = await store.listDeliveries({ workspaceId: ws.id, status: 'parked', limit: 10 })
        assert.deepEqual(parked.data.map((d) => d.id).sort(), [inputs[1], inputs[2]].map((i) => i?.deliveries[0]?.id).sort())
        assert.equal(parked.data[0]?.nextAttemptAt, null)
        assert.equal((await store.webhookStats(ws.id, [hook.id])).get(hook.id)?.parkedDeliveries, 2)
        // New deliveries of a disabled webhook are stored parked.
        const late = eventFor([hook])
        const lateDelivery = late.deliveries[0]
        assert.ok(lateDelivery)
        await store.recordEvent({ ...late, deliveries: [{ ...lateDelivery, status: 'parked' }] })
        assert.equal((await store.getDelivery(ws.id, lateDelivery.id))?.status, 'parked')
        assert.deepEqual(await store.claimDue(claimOptions(at(20))), [], 'parked deliveries are never claimed')
        // The in-flight one comes back pending and is parked by the engine, lease checked.
        await store.parkDeliveries([{ deliveryId: inFlight?.deliveryId ?? '', leaseToken: 'not-the-token' }], at(21))
        assert.equal((await store.getDelivery(ws.id, inFlight?.deliveryId ?? ''))?.status, 'pending')
        await store.parkDeliveries([{ deliveryId: inFlight?.deliveryId ?? '', leaseToken: inFlight?.leaseToken ?? '' }], at(21))
        assert.equal((await store.getDelivery(ws.id, inFlight?.deliveryId ?? ''))?.status, 'parked')

        const enabled = await store.enableWebhook(ws.id, hook.id, true, at(30))
        assert.equal(enabled?.enabled, true)
        assert.equal(enabled?.disabledReason, null)
        assert.deepEqual(enabled?.health, HEALTHY)
        const claimed = await store.claimDue(claimOptions(at(30)))
        assert.deepEqual(claimed.map((c) => c.deliveryId), [...inputs, late].map((i) => i.deliveries[0]?.id), 'oldest event first')
        assert.equal(await store.enableWebhook(ws.id, 'wh_missing', true, at(31)), null)
      })

      it('discards parked deliveries when enabled without replay', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const input = eventFor([hook])
        await store.recordEvent(input)
        await store.disableWebhook(ws.id, hook.id, 'manual', at(10))
        await store.enableWebhook(ws.id, hook.id, false, at(20))
        const delivery = await store.getDelivery(ws.id, input.deliveries[0]?.id ?? '')
        assert.equal(delivery?.status, 'failed')
        assert.equal(delivery?.lastError, 'discarded')
      })

      it('applies a health rule while settling: disables with parking, or releases held first attempts', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const sent = eventFor([hook])
        const waiting = eventFor([hook])
        await store.recordEvent(sent)
        await store.recordEvent(waiting)
        const [probe] = await store.claimDue(claimOptions(at(1), { limit: 1 }))
        assert.ok(probe)
        assert.equal(await store.holdFirstAttempts(hook.id, [], at(100), at(1)), 1, 'the free first attempt is held')
        const held = await store.getDelivery(ws.id, waiting.deliveries[0]?.id ?? '')
        assert.deepEqual(held?.nextAttemptAt, at(100))

        // A reopened breaker moves what it holds to its new probe time.
        const [other] = await store.claimDue(claimOptions(at(2), { limit: 1 }))
        assert.equal(other, undefined, 'the held one is not due')
        const helper = eventFor([hook])
        await store.recordEvent(helper)
        const [helperClaim] = await store.claimDue(claimOptions(at(3), { limit: 1 }))
        assert.ok(helperClaim)
        await store.completeAttempts([result(helperClaim, { status: 'failed' }, { statusCode: 500 })], at(4),
          (webhook) => ({ health: webhook.health, disable: null, releaseHeld: false, holdUntil: at(300) }))
        assert.deepEqual((await store.getDelivery(ws.id, waiting.deliveries[0]?.id ?? ''))?.nextAttemptAt, at(300))

        const seen: Array<{ webhook: Webhook, attempts: readonly SettledAttempt[] }> = []
        const close: HealthRule = (webhook, attempts) => {
          seen.push({ webhook, attempts })
          return { health: { ...webhook.health, lastSuccessAt: at(1_000) }, disable: null, releaseHeld: true, holdUntil: null }
        }
        const done = await store.completeAttempts([result(probe, { status: 'succeeded' })], at(50), close)
        assert.ok(seen.length >= 1, 'the rule is pure: a driver may apply it again under a lock')
        assert.ok(seen.every((s) => s.webhook.id === hook.id))
        assert.deepEqual(seen[seen.length - 1]?.attempts, [{ statusCode: 200, error: null, ok: true, final: 'succeeded', startedAt: at(1_000), deliveryCreatedAt: at(0) }])
        assert.deepEqual(done.health.map((c) => [c.webhook.id, c.disabled, c.webhook.health.lastSuccessAt]), [[hook.id, false, at(1_000)]])
        assert.deepEqual((await store.getDelivery(ws.id, waiting.deliveries[0]?.id ?? ''))?.nextAttemptAt, at(50), 'released: due now')

        const [next] = await store.claimDue(claimOptions(at(60)))
        assert.ok(next)
        const third = eventFor([hook])
        await store.recordEvent(third)
        const gone: HealthRule = (webhook) => ({ health: { ...webhook.health, consecutiveFailures: 1 }, disable: 'gone', releaseHeld: false, holdUntil: null })
        const disabled = await store.completeAttempts([result(next, { status: 'failed' }, { statusCode: 410 })], at(70), gone)
        assert.equal(disabled.health[0]?.disabled, true)
        assert.equal(disabled.health[0]?.webhook.disabledReason, 'gone')
        assert.deepEqual(disabled.health[0]?.webhook.disabledAt, at(70))
        assert.equal((await store.getDelivery(ws.id, third.deliveries[0]?.id ?? ''))?.status, 'parked')
        const none = await store.completeAttempts([], at(80), gone)
        assert.deepEqual(none, { rejected: [], released: 0, health: [] })
      })

      it('grants one breaker probe when it is due, then another only after the retry time', async (store) => {
        const { webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        assert.equal(await store.takeBreakerProbe(hook.id, at(200), at(300)), false, 'a closed breaker has no probe')
        const input = eventFor([hook])
        await store.recordEvent(input)
        const [claimed] = await store.claimDue(claimOptions(at(1)))
        assert.ok(claimed)
        // The engine's own rule: one failure opens the breaker, its probe due at 2 + 98.
        await store.completeAttempts([result(claimed, { status: 'failed' }, { statusCode: 500 })], at(2), healthRule(resolveHealthPolicy({ breakerThreshold: 1, breakerCooldownMs: 98 })))
        assert.equal((await store.getWebhook(hook.workspaceId, hook.id))?.health.breaker, 'open')
        assert.equal(await store.takeBreakerProbe(hook.id, at(50), at(150)), false, 'not yet due')
        assert.equal(await store.takeBreakerProbe(hook.id, at(100), at(150)), true)
        assert.equal(await store.takeBreakerProbe(hook.id, at(100), at(150)), false, 'one probe at a time')
        const halfOpen = await store.getWebhook(hook.workspaceId, hook.id)
        assert.equal(halfOpen?.health.breaker, 'half_open')
        assert.deepEqual(halfOpen?.health.breakerProbeAt, at(150))
        assert.equal(await store.takeBreakerProbe(hook.id, at(150), at(250)), true, 'a probe that never reported back is replaced')
      })

      it('holds only free first attempts that may wait: not retries, not skipBreaker ones, not those in flight', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const retrying = eventFor([hook])
        const forced = eventFor([hook])
        const fresh = eventFor([hook])
        const leasedInput = eventFor([hook])
        const forcedDelivery = forced.deliveries[0]
        assert.ok(forcedDelivery)
        await store.recordEvent(retrying)
        const [first] = await store.claimDue(claimOptions(at(1)))
        assert.ok(first)
        await store.completeAttempts([result(first, { status: 'pending', nextAttemptAt: at(5) }, { statusCode: 503 })], at(2))
        await store.recordEvent({ ...forced, deliveries: [{ ...forcedDelivery, skipBreaker: true }] })
        await store.recordEvent(leasedInput)
        const leased = await store.claimDue(claimOptions(at(3), { limit: 10 }))
        assert.equal(leased.find((c) => c.deliveryId === forcedDelivery.id)?.skipBreaker, true)
        assert.equal(leased.find((c) => c.deliveryId === leasedInput.deliveries[0]?.id)?.skipBreaker, false)
        await store.releaseLeases(leased.filter((c) => c.deliveryId !== leasedInput.deliveries[0]?.id))
        await store.recordEvent(fresh)
        const mine = leased.filter((c) => c.deliveryId === leasedInput.deliveries[0]?.id)
        assert.equal(await store.holdFirstAttempts(hook.id, mine, at(500), at(4)), 2, 'the fresh one and the one handed in')
        const byId = async (input: { deliveries: Array<{ id: string }> }): Promise<Date | null | undefined> =>
          (await store.getDelivery(ws.id, input.deliveries[0]?.id ?? ''))?.nextAttemptAt
        assert.deepEqual(await byId(fresh), at(500))
        assert.deepEqual(await byId(leasedInput), at(500))
        assert.deepEqual(await byId(retrying), at(5), 'a retry series keeps its schedule')
        assert.deepEqual(await byId(forced), at(0), 'skipBreaker ones go')
        // A manual retry goes whatever the breaker.
        await store.retryDelivery(ws.id, fresh.deliveries[0]?.id ?? '', at(6))
        const again = await store.claimDue(claimOptions(at(6), { limit: 10 }))
        assert.equal(again.find((c) => c.deliveryId === fresh.deliveries[0]?.id)?.skipBreaker, true)
      })

      it('recovers failed deliveries of a window except erased ones; a dry run counts the same ones', async (store) => {
        const { ws, webhooks: [hook, other] } = await seed(store, 2)
        assert.ok(hook && other)
        const made: RecordEventInput[] = []
        for (const [t, error] of [[10, 'HTTP 500'], [20, 'erased'], [30, 'HTTP 500'], [40, 'HTTP 500']] as const) {
          const input = { event: event(ws.id, 'call.ended', at(t)), deliveries: [deliveryTo(hook, at(t), 1), deliveryTo(other, at(t), 1)] }
          made.push(input)
          await store.recordEvent(input)
          for (const claimed of await store.claimDue(claimOptions(at(t), { limit: 10 }))) {
            await store.completeAttempts([result(claimed, { status: 'failed' }, { statusCode: 500, error })], at(t))
          }
        }
        const window = { workspaceId: ws.id, webhookId: hook.id, since: at(10), until: at(40), retries: 2, status: 'pending' as const, now: at(100) }
        const dry = await store.recoverDeliveries({ ...window, dryRun: true })
        assert.deepEqual(dry, { matched: 2, requeued: 0 }, 'since inclusive, until exclusive, erased left out')
        assert.equal((await store.getDelivery(ws.id, made[0]?.deliveries[0]?.id ?? ''))?.status, 'failed', 'a dry run changes nothing')
        const done = await store.recoverDeliveries({ ...window, dryRun: false })
        assert.deepEqual(done, { matched: dry.matched, requeued: dry.matched })
        const recovered = await store.getDelivery(ws.id, made[0]?.deliveries[0]?.id ?? '')
        assert.equal(recovered?.status, 'pending')
        assert.equal(recovered?.maxAttempts, 1 + 1 + 2, 'a fresh series: attempt numbers go on')
        assert.deepEqual(recovered?.nextAttemptAt, at(100))
        assert.equal((await store.getDelivery(ws.id, made[1]?.deliveries[0]?.id ?? ''))?.status, 'failed', 'erased stays failed')
        assert.equal((await store.getDelivery(ws.id, made[0]?.deliveries[1]?.id ?? ''))?.status, 'failed', 'other webhooks untouched')
        const [next] = await store.claimDue(claimOptions(at(100), { limit: 1 }))
        assert.equal(next?.attempt, 2)
        const parkedToo = await store.recoverDeliveries({ ...window, since: at(40), until: null, status: 'parked', dryRun: false })
        assert.deepEqual(parkedToo, { matched: 1, requeued: 1 })
        assert.equal((await store.getDelivery(ws.id, made[3]?.deliveries[0]?.id ?? ''))?.status, 'parked')
      })

      it('keeps a retry schedule; null clears it', async (store) => {
        const { ws } = await seed(store, 0)
        const input = webhookInput(ws.id, { retryScheduleMs: [1_000, 60_000, 86_400_000] })
        const created = await store.createWebhook(input, at(1))
        assert.deepEqual(created.retryScheduleMs, [1_000, 60_000, 86_400_000])
        const cleared = await store.updateWebhook(ws.id, created.id, { retryScheduleMs: null }, at(2))
        assert.equal(cleared?.retryScheduleMs, null)
        const again = await store.updateWebhook(ws.id, created.id, { retryScheduleMs: [100] }, at(3))
        assert.deepEqual((await store.getWebhook(ws.id, created.id))?.retryScheduleMs, [100])
        assert.deepEqual(again?.retryScheduleMs, [100])
      })
    })

    describe('stats and the queue', () => {
      it('counts deliveries per webhook with the last attempt time and last error', async (store) => {
        const { ws, webhooks: [a, idle] } = await seed(store, 2)
        assert.ok(a && idle)
        for (let i = 0; i < 4; i++) await store.recordEvent(eventFor([a]))
        const [d1, d2, d3] = await store.claimDue(claimOptions(at(0), { limit: 3 }))
        assert.ok(d1 && d2 && d3)
        await store.completeAttempts([
          result(d1, { status: 'failed' }, { startedAt: at(100), statusCode: null, error: 'connect ECONNREFUSED' }),
          result(d2, { status: 'succeeded' }, { startedAt: at(300), statusCode: 200 }),
          result(d3, { status: 'pending', nextAttemptAt: at(9_000) }, { startedAt: at(200), statusCode: 500, error: 'HTTP 500' }),
        ], at(400))

        const stats = await store.webhookStats(ws.id, [a.id, idle.id])
        assert.deepEqual(stats.get(a.id), {
          totalDeliveries: 4, failedDeliveries: 1, succeededDeliveries: 1, lastDeliveryAt: at(300), lastError: 'HTTP 500', parkedDeliveries: 0,
        })
        assert.deepEqual(stats.get(idle.id), {
          totalDeliveries: 0, failedDeliveries: 0, succeededDeliveries: 0, lastDeliveryAt: null, lastError: null, parkedDeliveries: 0,
        })
        const { ws: stranger } = await seed(store, 0)
        const foreign = (await store.webhookStats(stranger.id, [a.id])).get(a.id)
        assert.ok(foreign === undefined || foreign.totalDeliveries === 0, "another workspace's webhook shows nothing")
        assert.equal((await store.webhookStats(ws.id, [])).size, 0)
      })

      it('reports the queue and when work is next due', async (store) => {
        const { webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        assert.equal(await store.nextDueAt(), null)
        assert.deepEqual(await store.queueStats(at(0), at(0)), { pending: 0, due: 0, oldestDueAgeMs: 0, failedSince: 0 })
        const early = eventFor([hook], { dueAt: at(0) })
        const soon = eventFor([hook], { dueAt: at(10) })
        const later = eventFor([hook], { dueAt: at(10_000) })
        for (const input of [later, soon, early]) await store.recordEvent(input)
        assert.deepEqual(await store.nextDueAt(), at(0))
        assert.deepEqual(await store.queueStats(at(100), at(0)), { pending: 3, due: 2, oldestDueAgeMs: 100, failedSince: 0 })

        const [claimed] = await store.claimDue(claimOptions(at(100), { limit: 1, leaseMs: 1_000 }))
        assert.equal(claimed?.deliveryId, early.deliveries[0]?.id)
        assert.ok(claimed)
        assert.deepEqual(await store.nextDueAt(), at(10), 'a delivery in flight is not due')
        assert.deepEqual(await store.queueStats(at(100), at(0)), { pending: 3, due: 1, oldestDueAgeMs: 90, failedSince: 0 })
        const [second] = await store.claimDue(claimOptions(at(200), { limit: 1, leaseMs: 1_000 }))
        assert.ok(second)
        assert.deepEqual(await store.nextDueAt(), at(1_100), 'with everything due in flight, the first lease expiry is next')

        await store.completeAttempts([result(claimed, { status: 'failed' }, { statusCode: 400, error: null })], at(300))
        await store.completeAttempts([result(second, { status: 'succeeded' })], at(300))
        assert.deepEqual(await store.nextDueAt(), at(10_000))
        assert.deepEqual(await store.queueStats(at(400), at(250)), { pending: 1, due: 0, oldestDueAgeMs: 0, failedSince: 1 })
        assert.equal((await store.queueStats(at(400), at(301))).failedSince, 0)
      })

      it('tells listeners about new work until they stop listening', async (store) => {
        const { webhooks } = await seed(store, 1)
        let calls = 0
        const stop = store.onWork(() => { calls++ })
        await store.recordEvent(eventFor(webhooks))
        await waitFor('the listener to be called', () => calls >= 1)
        stop()
        const seen = calls
        await store.recordEvent(eventFor(webhooks))
        await new Promise((resolve) => setTimeout(resolve, 50))
        assert.equal(calls, seen)
      })

      it('answers ping', async (store) => {
        assert.equal(await store.ping(), true)
        assert.ok(store.driver === 'sqlite' || store.driver === 'postgres')
      })
    })

    describe('claiming around excluded webhooks', () => {
      it('takes the same rows in the same due order as a claim without them, never one of theirs', async (store) => {
        const { webhooks } = await seed(store, 5)
        const [a, b, c, d, e] = webhooks
        assert.ok(a && b && c && d && e)
        // Interleaved due times over five webhooks; ties broken by id as without exclusions.
        const inputs = []
        for (let i = 0; i < 6; i++) {
          inputs.push(eventFor([a, b, c], { dueAt: at(10 * i) }), eventFor([d], { dueAt: at(10 * i + 5) }), eventFor([e], { dueAt: at(1_000 + i) }))
        }
        inputs.push(eventFor([b], { dueAt: at(60_000) }))
        for (const input of inputs) await store.recordEvent(input)
        const excluded = new Set([a.id, c.id])
        const eligible = inputs.flatMap((input) => input.deliveries)
          .filter((dl) => !excluded.has(dl.webhookId) && dl.nextAttemptAt.getTime() <= at(2_000).getTime())
          .sort((x, y) => x.nextAttemptAt.getTime() - y.nextAttemptAt.getTime() || (x.id < y.id ? -1 : 1))
        assert.equal(eligible.length, 18)

        const first = await store.claimDue(claimOptions(at(2_000), { limit: 7, excludeWebhookIds: [a.id, c.id] }))
        assert.deepEqual(first.map((x) => x.deliveryId), eligible.slice(0, 7).map((x) => x.id))
        assert.deepEqual(first.map((x) => x.webhook?.id), eligible.slice(0, 7).map((x) => x.webhookId), 'each with its own webhook')
        // Leased rows are skipped; the rest follows in order; not-yet-due rows stay.
        const rest = await store.claimDue(claimOptions(at(2_000), { excludeWebhookIds: [c.id, a.id, 'wh_unknown'] }))
        assert.deepEqual(rest.map((x) => x.deliveryId), eligible.slice(7).map((x) => x.id))
        assert.deepEqual(await store.claimDue(claimOptions(at(2_000), { excludeWebhookIds: [a.id, c.id] })), [])
        const theirs = await store.claimDue(claimOptions(at(2_000), { excludeWebhookIds: [b.id, d.id, e.id] }))
        assert.deepEqual(new Set(theirs.map((x) => x.webhook?.id)), new Set([a.id, c.id]))
        assert.equal(theirs.length, 12)
      })

      it("reaches other webhooks' rows behind an excluded webhook's whole due backlog", async (store) => {
        const { webhooks: [dead, healthy, idle] } = await seed(store, 3)
        assert.ok(dead && healthy && idle)
        // 2,000 due rows of the excluded webhook, every one due before the first healthy row.
        for (let i = 0; i < 20; i++) {
          await store.recordEvent({
            event: event(dead.workspaceId, 'call.ended', at(i)),
            deliveries: Array.from({ length: 100 }, () => deliveryTo(dead, at(i))),
          })
        }
        const wanted = []
        for (let i = 0; i < 3; i++) {
          const input = eventFor([healthy], { dueAt: at(100 + i) })
          await store.recordEvent(input)
          wanted.push(input.deliveries[0]?.id)
        }
        await store.recordEvent(eventFor([idle], { dueAt: at(90_000) }))
        const claimed = await store.claimDue(claimOptions(at(1_000), { limit: 10, excludeWebhookIds: [dead.id] }))
        assert.deepEqual(claimed.map((x) => x.deliveryId), wanted)
        assert.deepEqual(await store.claimDue(claimOptions(at(1_000), { excludeWebhookIds: [dead.id] })), [])
        const again = await store.claimDue(claimOptions(at(1_000), { limit: 5 }))
        assert.deepEqual(again.map((x) => x.webhook?.id), Array(5).fill(dead.id), 'without the exclusion its rows come first')
      })

      it('gives a webhook excluded by one claimer to another, and never one row to both', async (store) => {
        const { webhooks: [a, b] } = await seed(store, 2)
        assert.ok(a && b)
        const all: string[] = []
        for (let i = 0; i < 10; i++) {
          const input = eventFor([a, b], { dueAt: at(i) })
          await store.recordEvent(input)
          all.push(...input.deliveries.map((x) => x.id))
        }
        const batches = await Promise.all([
          store.claimDue(claimOptions(at(100), { limit: 6, owner: 'w1', excludeWebhookIds: [a.id] })),
          store.claimDue(claimOptions(at(100), { limit: 6, owner: 'w2', excludeWebhookIds: [b.id] })),
          store.claimDue(claimOptions(at(100), { limit: 6, owner: 'w3' })),
        ])
        const claimed = batches.flat().map((x) => x.deliveryId)
        assert.equal(new Set(claimed).size, claimed.length, 'no delivery twice')
        assert.ok(batches[0]?.every((x) => x.webhook?.id === b.id))
        assert.ok(batches[1]?.every((x) => x.webhook?.id === a.id))
        const rest = await store.claimDue(claimOptions(at(100)))
        assert.deepEqual([...claimed, ...rest.map((x) => x.deliveryId)].sort(), [...all].sort())
      })

      it('sees the first lease expiry before a later free delivery, past many leased ones', async (store) => {
        const { webhooks: [hook, other] } = await seed(store, 2)
        assert.ok(hook && other)
        for (let i = 0; i < 5; i++) await store.recordEvent(eventFor([hook], { dueAt: at(0) }))
        await store.recordEvent(eventFor([other], { dueAt: at(5_000) }))
        const leased = await store.claimDue(claimOptions(at(10), { limit: 5, leaseMs: 2_000 }))
        assert.equal(leased.length, 5)
        assert.deepEqual(await store.nextDueAt(), at(2_010), 'the leases end before the free delivery is due')
        await store.renewLeases(leased.map((x) => ({ deliveryId: x.deliveryId, leaseToken: x.leaseToken })), 10_000, at(20))
        assert.deepEqual(await store.nextDueAt(), at(5_000), 'renewed past it: the free delivery is next')
      })
    })

    describe('routing candidates (routeWebhooks)', () => {
      const routed = async (store: Store, workspaceId: string, filters: string[], personaId: string | null = null): Promise<string[]> =>
        (await store.routeWebhooks(workspaceId, filters, personaId)).map((w) => w.id)

      it('returns the subscriptions listing one of the filters, "*" only when asked, oldest first, whole', async (store) => {
        const ws = workspace()
        await store.createWorkspace(ws)
        const all = await store.createWebhook(webhookInput(ws.id, { events: ['*'] }), at(3))
        const started = await store.createWebhook(webhookInput(ws.id, { events: ['call.started', 'call.ended'] }), at(1))
        const both = await store.createWebhook(webhookInput(ws.id, { events: ['call.started', '*'] }), at(2))
        await store.createWebhook(webhookInput(ws.id, { events: ['campaign.ended'] }), at(4))
        assert.deepEqual(await routed(store, ws.id, ['call.started', '*']), [started.id, both.id, all.id], 'each once, by creation')
        assert.deepEqual(await routed(store, ws.id, ['call.started']), [started.id, both.id], 'by name only')
        assert.deepEqual(await routed(store, ws.id, ['call.analyzed']), [])
        assert.deepEqual(await routed(store, ws.id, []), [])
        assert.deepEqual(await store.routeWebhooks(ws.id, ['call.ended'], null), [started])
        const { ws: stranger } = await seed(store, 0)
        assert.deepEqual(await routed(store, stranger.id, ['call.started', '*']), [], 'never another workspace\'s')
      })

      it('includes persona-scoped subscriptions of the given persona only', async (store) => {
        const ws = workspace()
        await store.createWorkspace(ws)
        const global = await store.createWebhook(webhookInput(ws.id), at(1))
        const mine = await store.createWebhook(webhookInput(ws.id, { scopeType: 'persona', personaId: 'per_mine' }), at(2))
        await store.createWebhook(webhookInput(ws.id, { scopeType: 'persona', personaId: 'per_other' }), at(3))
        assert.deepEqual(await routed(store, ws.id, ['call.started', '*'], 'per_mine'), [global.id, mine.id])
        assert.deepEqual(await routed(store, ws.id, ['call.started', '*'], null), [global.id])
        assert.deepEqual(await routed(store, ws.id, ['call.started', '*'], 'per_none'), [global.id])
      })

      it('includes disabled subscriptions (the routing rule decides), never deleted or inline ones', async (store) => {
        const ws = workspace()
        await store.createWorkspace(ws)
        const off = await store.createWebhook(webhookInput(ws.id, { enabled: false }), at(1))
        const gone = await store.createWebhook(webhookInput(ws.id), at(2))
        const jobId = newId('job')
        await store.createCall({ workspaceId: ws.id, jobId, personaId: null, hasInlineWebhooks: true, createdAt: at(3) },
          [webhookInput(ws.id, { jobId, events: ['*'] })])
        assert.equal(await store.deleteWebhook(ws.id, gone.id, at(4)), true)
        const candidates = await store.routeWebhooks(ws.id, ['call.started', '*'], null)
        assert.deepEqual(candidates.map((w) => [w.id, w.enabled]), [[off.id, false]])
      })

      it('answers reads asked in the same turn each with its own result (a driver may share their round trips)', async (store) => {
        const ws = workspace()
        await store.createWorkspace(ws)
        const global = await store.createWebhook(webhookInput(ws.id), at(1))
        const mine = await store.createWebhook(webhookInput(ws.id, { scopeType: 'persona', personaId: 'per_mine' }), at(2))
        const ended = await store.createWebhook(webhookInput(ws.id, { events: ['call.ended'] }), at(3))
        const { ws: stranger } = await seed(store, 0)
        const known = newId('job')
        await store.createCall({ workspaceId: ws.id, jobId: known, personaId: 'per_mine', hasInlineWebhooks: false, createdAt: at(4) }, [])
        const unknown = newId('ws')
        const versions = [await routesVersionOf(store, ws.id), await routesVersionOf(store, stranger.id), await routesVersionOf(store, unknown)]
        const [a, b, c, d, e, callKnown, callAgain, callUnknown, callElsewhere, ...sameTurnVersions] = await Promise.all([
          routed(store, ws.id, ['call.started', '*'], 'per_mine'),
          routed(store, ws.id, ['call.started', '*'], null),
          routed(store, ws.id, ['call.started', '*'], 'per_mine'),
          routed(store, ws.id, ['call.ended', '*'], null),
          routed(store, stranger.id, ['call.started', '*'], null),
          callOf(store, ws.id, known),
          callOf(store, ws.id, known),
          callOf(store, ws.id, newId('job')),
          callOf(store, stranger.id, known),
          routesVersionOf(store, ws.id),
          routesVersionOf(store, stranger.id),
          routesVersionOf(store, unknown),
        ])
        assert.deepEqual(sameTurnVersions, versions, 'each workspace its own routes version')
        // routingState: both reads at once, the same answers.
        const states = await Promise.all([
          store.routingState(ws.id, known),
          store.routingState(ws.id, null),
          store.routingState(stranger.id, known),
          store.routingState(unknown, newId('job')),
        ])
        assert.deepEqual(states, [
          { routesVersion: versions[0], call: callKnown },
          { routesVersion: versions[0], call: null },
          { routesVersion: versions[1], call: null },
          { routesVersion: versions[2], call: null },
        ])
        assert.deepEqual([a, b, c, d, e], [[global.id, mine.id], [global.id], [global.id, mine.id], [global.id, ended.id], []])
        assert.equal(callKnown?.personaId, 'per_mine')
        assert.deepEqual(callAgain, callKnown)
        assert.equal(callUnknown, null)
        assert.equal(callElsewhere, null, 'never another workspace\'s call')
      })

      it('follows updates of events, scope and persona', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        await store.updateWebhook(ws.id, hook.id, { events: ['call.ended'] }, at(10))
        assert.deepEqual(await routed(store, ws.id, ['call.started', '*']), [], 'the old list no longer routes')
        assert.deepEqual(await store.routeWebhooks(ws.id, ['call.ended', '*'], null),
          [{ ...hook, events: ['call.ended'], updatedAt: at(10) }])
        await store.updateWebhook(ws.id, hook.id, { scopeType: 'persona', personaId: 'per_a' }, at(11))
        assert.deepEqual(await routed(store, ws.id, ['call.ended', '*'], null), [])
        assert.deepEqual(await routed(store, ws.id, ['call.ended', '*'], 'per_a'), [hook.id])
        await store.updateWebhook(ws.id, hook.id, { personaId: 'per_b' }, at(12))
        assert.deepEqual(await routed(store, ws.id, ['call.ended', '*'], 'per_a'), [])
        assert.deepEqual(await routed(store, ws.id, ['call.ended', '*'], 'per_b'), [hook.id])
        await store.updateWebhook(ws.id, hook.id, { scopeType: 'global', personaId: null, events: ['*', 'call.ended'] }, at(13))
        assert.deepEqual(await routed(store, ws.id, ['call.started', '*'], null), [hook.id])
        await store.updateWebhook(ws.id, hook.id, { enabled: false, url: 'https://example.org/x' }, at(14))
        assert.deepEqual((await store.routeWebhooks(ws.id, ['call.ended'], null)).map((w) => [w.id, w.enabled, w.url]),
          [[hook.id, false, 'https://example.org/x']], 'other changes keep the routes and show in the rows')
      })

      it('moves the routes version on every change routing reads; settling, health counters and inline webhooks leave it', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        const { ws: other, webhooks: [stranger] } = await seed(store, 1)
        assert.ok(hook && stranger)
        let version = await routesVersionOf(store, ws.id)
        const moved = async (why: string): Promise<void> => {
          const now = await routesVersionOf(store, ws.id)
          assert.notEqual(now, version, why)
          version = now
        }
        const still = async (why: string): Promise<void> => { assert.equal(await routesVersionOf(store, ws.id), version, why) }

        // Settling: last attempt, last error, failures in a row, last success.
        const settle = async (status: 'succeeded' | 'failed', health: Partial<Webhook['health']>, t: number): Promise<void> => {
          await store.recordEvent(eventFor([hook]))
          const [claimed] = await store.claimDue(claimOptions(at(t)))
          assert.ok(claimed)
          await store.completeAttempts([result(claimed, { status }, { statusCode: status === 'failed' ? 500 : 200 })], at(t + 1),
            (webhook) => ({ health: { ...webhook.health, ...health }, disable: null, releaseHeld: false, holdUntil: null }))
        }
        await settle('failed', { consecutiveFailures: 1, failedDeliveriesInRow: 1, failingSince: at(10) }, 10)
        await settle('succeeded', { consecutiveFailures: 0, failedDeliveriesInRow: 0, failingSince: null, lastSuccessAt: at(20) }, 20)
        await still('settling and health counters')
        const jobId = newId('job')
        await store.createCall({ workspaceId: ws.id, jobId, personaId: null, hasInlineWebhooks: true, createdAt: at(25) },
          [webhookInput(ws.id, { jobId, events: ['*'] })])
        await still('a call with inline webhooks')
        // A breaker that opens gates new deliveries: it moves.
        await settle('failed', { consecutiveFailures: 5, breaker: 'open', breakerProbeAt: at(5_000), breakerCooldownMs: 1_000 }, 30)
        await moved('the breaker opened')
        assert.equal(await store.takeBreakerProbe(hook.id, at(5_000), at(6_000)), true)
        await moved('the probe half-opened it')

        await store.updateWebhook(ws.id, hook.id, { url: 'https://example.org/moved' }, at(40))
        await moved('url')
        await store.updateWebhook(ws.id, hook.id, { enabled: false }, at(41))
        await moved('enabled')
        await store.updateWebhook(ws.id, hook.id, { headers: { 'X-A': 'b' } }, at(42))
        await moved('headers')
        const added = await store.createWebhook(webhookInput(ws.id), at(43))
        await moved('a new webhook')
        assert.equal(await store.deleteWebhook(ws.id, added.id, at(44)), true)
        await moved('a deleted webhook')
        const otherVersion = await routesVersionOf(store, other.id)
        await store.updateWebhook(other.id, stranger.id, { url: 'https://example.org/other' }, at(45))
        assert.notEqual(await routesVersionOf(store, other.id), otherVersion, 'another workspace\'s own change')
      })

      it('returns the few matches among hundreds of other subscriptions', async (store) => {
        const ws = workspace()
        await store.createWorkspace(ws)
        for (let i = 0; i < 300; i += 50) {
          await Promise.all(Array.from({ length: 50 }, async (_, j) => await store.createWebhook(webhookInput(ws.id, {
            events: ['call.ended'], ...((i + j) % 2 === 0 ? {} : { scopeType: 'persona', personaId: `per_${i + j}`, events: ['call.started'] }),
          }), at(i + j))))
        }
        const target = await store.createWebhook(webhookInput(ws.id, { events: ['call.started'] }), at(1_000))
        assert.deepEqual(await routed(store, ws.id, ['call.started', '*'], 'per_0'), [target.id])
        assert.deepEqual((await routed(store, ws.id, ['call.started', '*'], 'per_7')).length, 2)
      })
    })

    describe('subscription options, per-call ordering and send slots', () => {
      it('stores ordering, filter, headers and rate limit; a patch replaces each whole and null clears it', async (store) => {
        const { ws } = await seed(store, 0)
        const input = webhookInput(ws.id, {
          ordering: 'per_call',
          filter: { 'data.status': 'completed', 'data.call.score': { gte: 80 } },
          headers: { 'X-Tenant': 'acme', 'X-Api-Key': 'k1' },
          rateLimitPerS: 20,
        })
        const created = await store.createWebhook(input, at(1))
        assert.deepEqual(created, storedWebhook(input, at(1)))
        assert.deepEqual(await store.getWebhook(ws.id, input.id), created)
        // Left out: none of them is in effect.
        const { ordering, filter, headers, rateLimitPerS, ...bare } = webhookInput(ws.id)
        assert.deepEqual([ordering, filter, headers, rateLimitPerS], ['none', null, null, null])
        const plain = await store.createWebhook(bare, at(2))
        assert.deepEqual([plain.ordering, plain.filter, plain.headers, plain.rateLimitPerS], ['none', null, null, null])
        assert.deepEqual(await store.getWebhook(ws.id, bare.id), plain)

        const patched = await store.updateWebhook(ws.id, input.id, { filter: { event: { in: ['call.ended'] } }, headers: { 'X-Other': '2' } }, at(3))
        assert.deepEqual(patched?.filter, { event: { in: ['call.ended'] } })
        assert.deepEqual(patched?.headers, { 'X-Other': '2' })
        assert.equal(patched?.rateLimitPerS, 20)
        const cleared = await store.updateWebhook(ws.id, input.id, { ordering: 'none', filter: null, headers: null, rateLimitPerS: null }, at(4))
        assert.deepEqual([cleared?.ordering, cleared?.filter, cleared?.headers, cleared?.rateLimitPerS], ['none', null, null, null])
        // Routing and claims carry the options too.
        await store.updateWebhook(ws.id, input.id, { rateLimitPerS: 5, headers: { 'X-A': 'b' } }, at(5))
        const [routed] = (await store.routeWebhooks(ws.id, ['*'], null)).filter((w) => w.id === input.id)
        assert.equal(routed?.rateLimitPerS, 5)
        await store.recordEvent(eventFor([created]))
        const [claimed] = await store.claimDue(claimOptions(at(10)))
        assert.deepEqual(claimed?.webhook?.headers, { 'X-A': 'b' })
      })

      it('sends one delivery of a call at a time, in recording order; other calls and unordered deliveries do not wait', async (store) => {
        const { webhooks: [hook, other] } = await seed(store, 2)
        assert.ok(hook && other)
        const record = async (key: string | null, to: Webhook = hook): Promise<string> => {
          const input = { event: event(to.workspaceId), deliveries: [deliveryTo(to, at(0), 4, key)] }
          await store.recordEvent(input)
          return input.deliveries[0]?.id ?? ''
        }
        const a1 = await record('job_a')
        const a2 = await record('job_a')
        const a3 = await record('job_a')
        const b1 = await record('job_b')
        const free = await record(null)
        const elsewhere = await record('job_a', other)
        const waiting = await store.getDelivery(hook.workspaceId, a2)
        assert.equal(waiting?.status, 'pending')
        assert.equal(waiting?.nextAttemptAt, null, 'waits for its call')
        assert.notEqual(await store.nextDueAt(), null, 'nextDueAt')

        const first = await store.claimDue(claimOptions(at(0)))
        assert.deepEqual(new Set(first.map((c) => c.deliveryId)), new Set([a1, b1, free, elsewhere]))
        const lease = (id: string) => first.find((c) => c.deliveryId === id) ?? assert.fail(id)
        // A retry keeps the call's place: its next delivery still waits.
        let done = await store.completeAttempts([result(lease(a1), { status: 'pending', nextAttemptAt: at(5_000) })], at(1_000))
        assert.deepEqual(done, { rejected: [], released: 0, health: [] })
        assert.deepEqual(await store.claimDue(claimOptions(at(2_000))), [])
        const [retry] = await store.claimDue(claimOptions(at(5_000)))
        assert.equal(retry?.deliveryId, a1)
        // Failed for good: the next one goes.
        done = await store.completeAttempts([result(retry ?? assert.fail(), { status: 'failed' }, { statusCode: 500 })], at(6_000))
        assert.deepEqual(done, { rejected: [], released: 1, health: [] })
        assert.equal((await store.getDelivery(hook.workspaceId, a2))?.nextAttemptAt?.getTime(), at(6_000).getTime())
        const second = await store.claimDue(claimOptions(at(6_000)))
        assert.deepEqual(second.map((c) => c.deliveryId), [a2])
        // A new event of the call while a2 is out joins the end of the queue.
        const a4 = await record('job_a')
        assert.equal((await store.getDelivery(hook.workspaceId, a4))?.nextAttemptAt, null)
        done = await store.completeAttempts([result(second[0] ?? assert.fail(), { status: 'succeeded' })], at(7_000))
        assert.equal(done.released, 1)
        assert.deepEqual((await store.claimDue(claimOptions(at(7_000)))).map((c) => c.deliveryId), [a3])
        // A call with nothing pending starts at once.
        const [b1Lease] = first.filter((c) => c.deliveryId === b1)
        await store.completeAttempts([result(b1Lease ?? assert.fail(), { status: 'succeeded' })], at(8_000))
        const b2 = await record('job_b')
        assert.notEqual((await store.getDelivery(hook.workspaceId, b2))?.nextAttemptAt, null, 'b2 due')
      })

      it('enable\'s replay lines a call\'s parked deliveries up in acceptance order, behind one under way; later events wait behind them', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const record = async (key: string, status: 'pending' | 'parked' = 'pending'): Promise<string> => {
          const delivery = { ...deliveryTo(hook, at(0), 4, key), status }
          await store.recordEvent({ event: event(ws.id), deliveries: [delivery] })
          return delivery.id
        }
        const a1 = await record('job_a')
        const a2 = await record('job_a')
        const b1 = await record('job_b')
        const c1 = await record('job_c')
        const out = await store.claimDue(claimOptions(at(1)))
        assert.deepEqual(new Set(out.map((c) => c.deliveryId)), new Set([a1, b1, c1]))
        const lease = (id: string) => out.find((c) => c.deliveryId === id) ?? assert.fail(id)
        // Disabled with a1, b1 and c1 in flight: a2 is parked, they finish.
        await store.disableWebhook(ws.id, hook.id, 'manual', at(10))
        assert.equal((await store.getDelivery(ws.id, a2))?.status, 'parked')
        // b1 comes back for a retry (the engine parks it when it is due); a1 and c1 settle.
        await store.completeAttempts([
          result(lease(a1), { status: 'succeeded' }),
          result(lease(b1), { status: 'pending', nextAttemptAt: at(20) }, { statusCode: 503 }),
        ], at(11))
        const [b1Again] = await store.claimDue(claimOptions(at(20)))
        assert.equal(b1Again?.deliveryId, b1)
        await store.parkDeliveries([b1Again ?? assert.fail()], at(20))
        // Events accepted while it is disabled are parked, each in its call's next place.
        const a3 = await record('job_a', 'parked')
        const b2 = await record('job_b', 'parked')
        const a4 = await record('job_a', 'parked')
        const b3 = await record('job_b', 'parked')
        const c2 = await record('job_c', 'parked')

        await store.enableWebhook(ws.id, hook.id, true, at(30))
        // c1 is still out: c2 waits behind it even though it was parked.
        const c2Waiting = await store.getDelivery(ws.id, c2)
        assert.deepEqual([c2Waiting?.status, c2Waiting?.nextAttemptAt], ['pending', null])
        // An event accepted after the enable goes behind the replayed ones of its call.
        const a5 = await record('job_a')
        const b4 = await record('job_b')
        assert.equal((await store.getDelivery(ws.id, a5))?.nextAttemptAt, null)
        await drainQueues(store, { job_a: [a2, a3, a4, a5], job_b: [b1, b2, b3, b4] }, at(30))
        await store.completeAttempts([result(lease(c1), { status: 'succeeded' })], at(1_000))
        await drainQueues(store, { job_c: [c2] }, at(1_000))
      })

      it('recover lines a call\'s failed deliveries up in acceptance order with its waiting ones, behind one under way', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const record = async (key: string): Promise<string> => {
          const delivery = deliveryTo(hook, at(0), 1, key)
          await store.recordEvent({ event: event(ws.id), deliveries: [delivery] })
          return delivery.id
        }
        const a1 = await record('job_a')
        const a2 = await record('job_a')
        const a3 = await record('job_a')
        const b1 = await record('job_b')
        const b2 = await record('job_b')
        await drainQueues(store, { job_a: [a1, a2, a3], job_b: [b1, b2] }, at(0), 'failed')
        // Later events of call a: a4 is out, a5 waits behind it.
        const a4 = await record('job_a')
        const a5 = await record('job_a')
        const [a4Lease, ...none] = await store.claimDue(claimOptions(at(100)))
        assert.deepEqual([a4Lease?.deliveryId, none], [a4, []])

        const done = await store.recoverDeliveries({
          workspaceId: ws.id, webhookId: hook.id, since: at(0), until: null, retries: 0, status: 'pending', now: at(200), dryRun: false,
        })
        assert.deepEqual(done, { matched: 5, requeued: 5 })
        for (const id of [a1, a2, a3, b2]) assert.equal((await store.getDelivery(ws.id, id))?.nextAttemptAt, null, `${id} waits`)
        const [b1Lease] = await store.claimDue(claimOptions(at(200)))
        assert.deepEqual(b1Lease?.deliveryId, b1, 'only call b\'s head: a4 is still out')
        await store.completeAttempts([result(a4Lease ?? assert.fail(), { status: 'succeeded' }), result(b1Lease, { status: 'succeeded' })], at(210))
        // a1 was accepted before a5, which was waiting already: it goes first.
        await drainQueues(store, { job_a: [a1, a2, a3, a5], job_b: [b2] }, at(210))
      })

      it('a waiting delivery of a deleted webhook ends failed like the others', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        await store.recordEvent({ event: event(ws.id), deliveries: [deliveryTo(hook, at(0), 1, 'job_x')] })
        const queued = { event: event(ws.id), deliveries: [deliveryTo(hook, at(0), 1, 'job_x')] }
        await store.recordEvent(queued)
        await store.deleteWebhook(ws.id, hook.id, at(1))
        assert.equal((await store.getDelivery(ws.id, queued.deliveries[0]?.id ?? ''))?.status, 'failed')
      })

      it('reserveSendSlots hands out consecutive slots, after every earlier reservation and never before now', async (store) => {
        const { webhooks: [hook, other] } = await seed(store, 2)
        assert.ok(hook && other)
        assert.equal((await store.reserveSendSlots(hook.id, 5, 50, at(0))).getTime(), at(0).getTime())
        assert.equal((await store.reserveSendSlots(hook.id, 2, 50, at(10))).getTime(), at(250).getTime())
        assert.equal((await store.reserveSendSlots(other.id, 1, 50, at(10))).getTime(), at(10).getTime(), 'per webhook')
        // Idle for long: no credit is saved up.
        assert.equal((await store.reserveSendSlots(hook.id, 1, 50, at(60_000))).getTime(), at(60_000).getTime())
        const together = await Promise.all([1, 2, 3].map(async () => await store.reserveSendSlots(hook.id, 1, 50, at(60_000))))
        assert.deepEqual(together.map((d) => d.getTime() - at(60_000).getTime()).sort((a, b) => a - b), [50, 100, 150])
      })
    })

    describe('listen (cli) sessions', () => {
      async function sessionFor (store: Store, webhook: Webhook, hubId: string, heartbeatAt = at(0)): Promise<CliSession> {
        const session: CliSession = { id: newId('cls'), workspaceId: webhook.workspaceId, webhookId: webhook.id, hubId, createdAt: at(0), heartbeatAt }
        await store.insertCliSession(session)
        return session
      }

      it('leaves a session\'s deliveries to its hub: plain claims and nextDueAt skip them, the hub claims only them', async (store) => {
        const { ws, webhooks: [plain, cli] } = await seed(store, 2)
        assert.ok(plain && cli)
        const session = await sessionFor(store, cli, 'hub_a')
        const toCli = eventFor([cli], { dueAt: at(10) })
        const toPlain = eventFor([plain], { dueAt: at(20) })
        await store.recordEvent(toCli)
        assert.equal(await store.nextDueAt(), null, 'nothing a plain claimer could take')
        await store.recordEvent(toPlain)
        assert.deepEqual(await store.nextDueAt(), at(20))

        assert.deepEqual((await store.claimDue(claimOptions(at(100), { cliHubId: 'hub_b' }))).map((c) => c.deliveryId), [], 'another hub gets nothing')
        const plainClaim = await store.claimDue(claimOptions(at(100)))
        assert.deepEqual(plainClaim.map((c) => c.deliveryId), [toPlain.deliveries[0]?.id])
        const hubClaim = await store.claimDue(claimOptions(at(100), { cliHubId: 'hub_a' }))
        assert.deepEqual(hubClaim.map((c) => c.deliveryId), [toCli.deliveries[0]?.id])
        assert.deepEqual(hubClaim[0]?.webhook, cli)

        // Once the session row is gone, its webhook is an ordinary one again.
        await store.releaseLeases(hubClaim)
        await store.deleteCliSession(session.id)
        assert.equal(await store.getCliSession(ws.id, session.id), null)
        assert.deepEqual((await store.claimDue(claimOptions(at(200)))).map((c) => c.deliveryId), [toCli.deliveries[0]?.id])
      })

      it('reads sessions by workspace, beats per hub and lists stale ones', async (store) => {
        const { ws, webhooks: [a, b] } = await seed(store, 2)
        assert.ok(a && b)
        const mine = await sessionFor(store, a, 'hub_a', at(0))
        const theirs = await sessionFor(store, b, 'hub_b', at(0))
        assert.deepEqual(await store.getCliSession(ws.id, mine.id), mine)
        assert.equal(await store.getCliSession('ws_other', mine.id), null, 'another workspace does not see it')
        await store.heartbeatCliSessions('hub_a', at(50_000))
        assert.deepEqual((await store.getCliSession(ws.id, mine.id))?.heartbeatAt, at(50_000))
        assert.deepEqual((await store.listStaleCliSessions(at(10_000))).map((s) => s.id), [theirs.id])
        await assert.rejects(store.insertCliSession({ ...theirs, id: newId('cls') }), 'one session per webhook')
      })

      it('deleting a webhook with a reason fails its pending deliveries with that reason', async (store) => {
        const { ws, webhooks: [hook] } = await seed(store, 1)
        assert.ok(hook)
        const input = eventFor([hook])
        await store.recordEvent(input)
        assert.equal(await store.deleteWebhook(ws.id, hook.id, at(10), 'cli session ended'), true)
        const delivery = await store.getDelivery(ws.id, input.deliveries[0]?.id ?? '')
        assert.equal(delivery?.status, 'failed')
        assert.equal(delivery?.lastError, 'cli session ended')
      })
    })
  })
}

/**
 * Per-call ordering: claims and settles (with `outcome`) until every queue is empty, checking
 * that each claim takes exactly the head of every call's queue, in `queues`' order, and nothing
 * else — no other delivery of a call is due meanwhile.
 */
async function drainQueues (store: Store, queues: Record<string, string[]>, from: Date, outcome: 'succeeded' | 'failed' = 'succeeded'): Promise<void> {
  const left = Object.values(queues).map((ids) => [...ids])
  let now = from.getTime()
  for (let step = 0; left.some((ids) => ids.length > 0); step++) {
    const claimed = await store.claimDue(claimOptions(new Date(now)))
    const heads = left.flatMap((ids) => ids.slice(0, 1))
    assert.deepEqual(new Set(claimed.map((c) => c.deliveryId)), new Set(heads), `step ${step}: only each call's head is due`)
    now += 10
    const done = await store.completeAttempts(claimed.map((c) => result(c, { status: outcome }, outcome === 'failed' ? { statusCode: 500 } : {})), new Date(now))
    assert.deepEqual(done.rejected, [])
    for (const ids of left) ids.shift()
  }
  assert.deepEqual(await store.claimDue(claimOptions(new Date(now))), [], 'nothing left')
}

