/**
 * Delivery search, chart samples, workspace queue numbers and portal sessions (src/store/store.ts),
 * for both drivers. Delivery ids here are made at their created_at (as acceptEvent makes them),
 * since drivers may narrow a time range by the ids' time part (docs/storage.md, "Delivery search").
 */
import { describe } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { PortalSession, RecordEventInput, Store, Webhook } from '../../src/store/store.js'
import { eventKeys } from '../../src/events/event-keys.js'
import { idTimeBound, newId } from '../../src/util/ids.js'
import { claimOptions, result, seed } from './store-fixtures.js'
import { storeTest } from './fresh-store.js'
import type { StoreUnderTest } from './fresh-store.js'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** A delivery id whose time part is `ms`, without moving ids.ts's monotonic clock. */
function deliveryIdAt (ms: number): string {
  return idTimeBound('dlv', ms) + [...randomBytes(16)].map((b) => CROCKFORD[b % 32]).join('')
}

const NOW = Date.now()
const MIN = 60_000

function callEvent (webhooks: readonly Webhook[], data: Record<string, unknown>, createdMs: number, type = 'call.ended'): RecordEventInput {
  const first = webhooks[0]
  if (first === undefined) throw new Error('needs a webhook')
  const id = newId('evt')
  const body = JSON.stringify({ event: type, event_id: id, workspace_id: first.workspaceId, timestamp: new Date(createdMs).toISOString(), data, metadata: {} })
  return {
    event: { id, workspaceId: first.workspaceId, type, body, createdAt: new Date(createdMs) },
    deliveries: webhooks.map((w) => ({ id: deliveryIdAt(createdMs), webhookId: w.id, url: w.url, maxAttempts: 4, nextAttemptAt: new Date(createdMs) })),
    keys: eventKeys(data),
  }
}

export function searchContract (name: string, makeStore: () => Promise<StoreUnderTest>): void {
  const it = storeTest(makeStore)

  describe(`Store contract, search and charts: ${name}`, () => {
    it('filters deliveries by job, contact, time range and a set of webhooks, newest first', async (store) => {
      const { ws, webhooks: [a, b] } = await seed(store, 2)
      assert.ok(a && b)
      const e1 = callEvent([a, b], { job_id: 'job_1', contact_id: 'ct_1' }, NOW - 30 * MIN)
      const e2 = callEvent([a], { job_id: 'job_2', contact: { id: 'ct_1', name: 'x', phone: '1' } }, NOW - 20 * MIN)
      const e3 = callEvent([b], { call: { id: 'job_1' }, contact_id: 'ct_2' }, NOW - 10 * MIN, 'call.analyzed')
      const e4 = callEvent([a], { campaign_id: 'camp_1' }, NOW - 5 * MIN, 'campaign.started')
      for (const e of [e1, e2, e3, e4]) await store.recordEvent(e)
      const ids = async (filter: Partial<Parameters<Store['listDeliveries']>[0]>): Promise<string[]> =>
        (await store.listDeliveries({ workspaceId: ws.id, limit: 100, ...filter })).data.map((d) => d.id)
      const of = (...events: RecordEventInput[]): string[] => events.flatMap((e) => e.deliveries.map((d) => d.id)).sort().reverse()

      assert.deepEqual(await ids({ jobId: 'job_1' }), of(e1, e3), 'data.job_id, and data.call.id for call.analyzed')
      assert.deepEqual(await ids({ jobId: 'job_1', webhookId: b.id }), of(e3).concat(e1.deliveries.filter((d) => d.webhookId === b.id).map((d) => d.id)))
      assert.deepEqual(await ids({ contactId: 'ct_1' }), of(e1, e2), 'data.contact_id and data.contact.id')
      assert.deepEqual(await ids({ jobId: 'job_none' }), [])
      assert.deepEqual(await ids({ since: new Date(NOW - 20 * MIN) }), of(e2, e3, e4), 'since is inclusive')
      assert.deepEqual(await ids({ until: new Date(NOW - 20 * MIN) }), of(e1), 'until is exclusive')
      assert.deepEqual(await ids({ since: new Date(NOW - 25 * MIN), until: new Date(NOW - 6 * MIN) }), of(e2, e3))
      assert.deepEqual(await ids({ webhookIds: [b.id] }), of(e1, e3).filter((id) => [...e1.deliveries, ...e3.deliveries].some((d) => d.id === id && d.webhookId === b.id)))
      assert.deepEqual(await ids({ webhookIds: [] }), [], 'an empty set of webhooks sees nothing')
      assert.deepEqual(await ids({ webhookIds: [b.id, a.id, b.id] }), await ids({}), 'each delivery once, whatever the set repeats')
      const page = await store.listDeliveries({ workspaceId: ws.id, limit: 1, contactId: 'ct_1' })
      assert.equal(page.data.length, 1)
      const rest = await store.listDeliveries({ workspaceId: ws.id, limit: 10, contactId: 'ct_1', cursor: page.nextCursor ?? undefined })
      assert.deepEqual([...page.data, ...rest.data].map((d) => d.id), of(e1, e2), 'cursor pages through a search')

      const { ws: other } = await seed(store, 0)
      assert.deepEqual((await store.listDeliveries({ workspaceId: other.id, limit: 10, jobId: 'job_1' })).data, [], 'never another workspace')

      // Listings merged from several index ranges (one per status, one per webhook) page like one:
      // each delivery once, newest first, whatever the page size.
      const parked = callEvent([a, b], { job_id: 'job_3' }, NOW - 2 * MIN)
      await store.recordEvent({ ...parked, deliveries: parked.deliveries.map((d) => ({ ...d, status: 'parked' as const })) })
      for (const filter of [{}, { webhookIds: [a.id, b.id] }, { since: new Date(NOW - 25 * MIN) }]) {
        const all = await ids(filter)
        for (const limit of [1, 2, 3]) {
          const paged: string[] = []
          let cursor: string | undefined
          do {
            const next = await store.listDeliveries({ workspaceId: ws.id, limit, cursor, ...filter })
            paged.push(...next.data.map((d) => d.id))
            cursor = next.nextCursor ?? undefined
          } while (cursor !== undefined)
          assert.deepEqual(paged, all, `pages of ${limit}: ${JSON.stringify(filter)}`)
        }
        assert.deepEqual(all, [...all].sort().reverse())
        assert.ok(all.length >= 3, 'the filter finds pending and parked deliveries alike')
      }

      // A body with \u0000 (kept byte for byte) is recorded and found: the keys are columns of
      // their own, not read from the body (which PostgreSQL's jsonb could not parse).
      const nul = callEvent([a], { job_id: 'job_nul', note: 'a\u0000b' }, NOW - MIN)
      assert.equal((await store.recordEvent(nul)).created, true)
      assert.deepEqual(await ids({ jobId: 'job_nul' }), of(nul))
    })

    it('reads one webhook\'s attempts in a time window, and one workspace\'s queue numbers', async (store) => {
      const { ws, webhooks: [a, b] } = await seed(store, 2)
      assert.ok(a && b)
      for (let i = 0; i < 3; i++) await store.recordEvent(callEvent([a, b], { job_id: `job_${i}` }, NOW - MIN))
      const claimed = await store.claimDue(claimOptions(new Date(NOW)))
      const ofA = claimed.filter((c) => c.webhook?.id === a.id)
      const ofB = claimed.filter((c) => c.webhook?.id === b.id)
      assert.equal(ofA.length, 3)
      const [a1, a2, a3] = ofA
      assert.ok(a1 && a2 && a3)
      await store.completeAttempts([
        result(a1, { status: 'succeeded' }, { startedAt: new Date(NOW - 50_000), durationMs: 40, statusCode: 200 }),
        result(a2, { status: 'failed' }, { startedAt: new Date(NOW - 40_000), durationMs: 5_000, statusCode: null, error: 'timeout' }),
        result(a3, { status: 'pending', nextAttemptAt: new Date(NOW + MIN) }, { startedAt: new Date(NOW - 30_000), durationMs: 12, statusCode: 503, error: 'HTTP 503' }),
        ...ofB.map((c) => result(c, { status: 'succeeded' }, { startedAt: new Date(NOW - 45_000), durationMs: 7, statusCode: 204 })),
      ], new Date(NOW))

      const samples = await store.attemptSamples(a.id, new Date(NOW - 45_000), new Date(NOW - 30_000))
      assert.deepEqual(samples, [{ startedAt: new Date(NOW - 40_000), durationMs: 5_000, statusCode: null }], '[from, to) and only this webhook')
      assert.equal((await store.attemptSamples(a.id, new Date(NOW - MIN), new Date(NOW))).length, 3)
      assert.deepEqual((await store.attemptSamples(a.id, new Date(NOW - MIN), new Date(NOW))).map((s) => s.startedAt.getTime()),
        [NOW - 50_000, NOW - 40_000, NOW - 30_000], 'oldest first')

      assert.deepEqual(await store.workspaceQueueStats(ws.id, new Date(NOW - MIN)), { pending: 1, failedSince: 1 })
      assert.deepEqual(await store.workspaceQueueStats(ws.id, new Date(NOW - MIN), [b.id]), { pending: 0, failedSince: 0 })
      assert.deepEqual(await store.workspaceQueueStats(ws.id, new Date(NOW + MIN)), { pending: 1, failedSince: 0 })
      const { ws: empty } = await seed(store, 0)
      assert.deepEqual(await store.workspaceQueueStats(empty.id, new Date(0)), { pending: 0, failedSince: 0 }, 'another workspace counts nothing')
    })

    it('stores portal sessions by token hash and revokes them in their workspace only', async (store) => {
      const { ws } = await seed(store, 0)
      const { ws: other } = await seed(store, 0)
      const session: PortalSession = {
        id: newId('ps'), workspaceId: ws.id, hash: 'd'.repeat(64), personaId: 'per_1', readOnly: true,
        createdAt: new Date(NOW), expiresAt: new Date(NOW + 3_600_000), revokedAt: null,
      }
      await store.createPortalSession(session)
      await store.createPortalSession({ ...session, id: newId('ps'), hash: 'e'.repeat(64), personaId: null, readOnly: false })
      assert.deepEqual(await store.findPortalSessionByHash(session.hash), session)
      assert.equal((await store.findPortalSessionByHash('e'.repeat(64)))?.readOnly, false)
      assert.equal(await store.findPortalSessionByHash('f'.repeat(64)), null)
      assert.equal(await store.revokePortalSession(other.id, session.id, new Date(NOW)), false, 'not from another workspace')
      assert.equal(await store.revokePortalSession(ws.id, session.id, new Date(NOW + 5)), true)
      assert.deepEqual((await store.findPortalSessionByHash(session.hash))?.revokedAt, new Date(NOW + 5))
      await assert.rejects(store.createPortalSession({ ...session, id: newId('ps') }), 'hashes are unique')
    })
  })
}
