/**
 * `listen` sessions in a multi-process PostgreSQL deployment (src/delivery/cli-hub.ts): two store
 * instances (two pools, as two processes have) on one schema. The session lives in process A; the
 * event is accepted, the report received and a normal engine runs in process B. Only A's hub
 * ever sends the session's deliveries; B's engine and B's own hub leave them alone.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { createCliHub, recordCliReport } from '../../src/delivery/cli-hub.js'
import type { CliPush, CliStream } from '../../src/delivery/cli-hub.js'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { samplePayload } from '../../src/events/samples.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import type { Delivery, Store } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import { verify } from '../../src/receiver/index.js'
import { dropSchema, randomSchemaName, TEST_DATABASE_URL } from '../helpers/postgres.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { waitFor } from '../helpers/wait-for.js'

function recordingStream (): CliStream & { pushed: CliPush[], ended: boolean } {
  const stream = {
    pushed: [] as CliPush[],
    ended: false,
    push (delivery: CliPush) { stream.pushed.push(delivery) },
    end () { stream.ended = true },
  }
  return stream
}

async function deliveryOf (store: Store, workspaceId: string, eventId: string): Promise<Delivery> {
  const page = await store.listDeliveries({ workspaceId, eventId, limit: 10 })
  const delivery = page.data[0]
  assert.ok(delivery !== undefined && page.data.length === 1)
  return delivery
}

test('a session held by process A gets its deliveries from A only, with reports taken by B, and ends cleanly', { timeout: 60_000 }, async () => {
  const schema = randomSchemaName()
  const a = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 3 })
  const b = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 3 })
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: 'test' })
  const engineB = createEngine({ idlePollMs: 50 }, { store: b, sender })
  const hubA = createCliHub({ store: a })
  const hubB = createCliHub({ store: b })
  try {
    const workspaceId = newId('ws')
    await a.createWorkspace({ id: workspaceId, name: 'test', createdAt: new Date() })
    engineB.start()
    const streamA = recordingStream()
    const opened = await hubA.open(workspaceId, ['call.ended'], streamA)
    // B holds a session of its own, so its hub is claiming too.
    const streamB = recordingStream()
    await hubB.open(workspaceId, ['campaign.ended'], streamB)

    const first = await acceptEvent(b, { workspaceId, event: 'call.ended', data: samplePayload('call.ended') })
    assert.equal(first.deliveries, 1)
    const push1 = await waitFor('the first push', () => streamA.pushed[0] ?? null)
    assert.equal(push1.attempt, 1)
    assert.equal(verify(push1.body, push1.headers, { secret: opened.secret }).event_id, first.eventId)
    assert.equal((await recordCliReport(b, workspaceId, opened.session.id, { ...push1, status_code: 500, duration_ms: 3 }, new Date())), 'recorded')
    assert.equal((await recordCliReport(b, workspaceId, opened.session.id, { ...push1, status_code: 204, duration_ms: 3 }, new Date())), 'stale', 'one report per attempt')

    const push2 = await waitFor('the retry', () => streamA.pushed[1] ?? null)
    assert.equal(push2.delivery_id, push1.delivery_id)
    assert.equal(push2.attempt, 2)
    assert.equal((await recordCliReport(b, workspaceId, opened.session.id, { ...push2, status_code: 204, duration_ms: 3 }, new Date())), 'recorded')
    const done = await deliveryOf(a, workspaceId, first.eventId)
    assert.equal(done.status, 'succeeded')
    assert.equal(done.attemptCount, 2, 'B\'s engine never sent it')
    assert.deepEqual((await a.listAttempts(done.id)).map((t) => t.statusCode), [500, 204])
    assert.equal(streamB.pushed.length, 0, 'B\'s hub never claimed A\'s deliveries')

    // A delivery still waiting for its report when the session ends fails with the reason.
    const second = await acceptEvent(b, { workspaceId, event: 'call.ended', data: samplePayload('call.ended') })
    await waitFor('the second push', () => streamA.pushed[2] ?? null)
    await hubA.close(opened.session.id)
    assert.equal(streamA.ended, true)
    const ended = await deliveryOf(b, workspaceId, second.eventId)
    assert.equal(ended.status, 'failed')
    assert.equal(ended.lastError, 'cli session ended')
    assert.equal(await b.getWebhook(workspaceId, opened.webhook.id), null)
    assert.equal((await acceptEvent(b, { workspaceId, event: 'call.ended', data: samplePayload('call.ended') })).deliveries, 0)
  } finally {
    await hubA.stop()
    await hubB.stop()
    await engineB.stop(1_000)
    await sender.close()
    await a.close()
    await b.close()
    await dropSchema(schema)
  }
})

test('a session whose process died is ended by another process\'s sweep', { timeout: 30_000 }, async () => {
  const schema = randomSchemaName()
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 2 })
  const hub = createCliHub({ store, heartbeatMs: 50, staleMs: 1_000 })
  try {
    const workspaceId = newId('ws')
    await store.createWorkspace({ id: workspaceId, name: 'test', createdAt: new Date() })
    const webhook = await store.createWebhook(webhookInput(workspaceId, { url: 'cli://cls_dead' }), new Date())
    const old = new Date(Date.now() - 5_000)
    await store.insertCliSession({ id: 'cls_dead', workspaceId, webhookId: webhook.id, hubId: 'hub_dead', createdAt: old, heartbeatAt: old })
    const accepted = await acceptEvent(store, { workspaceId, event: 'call.ended', data: samplePayload('call.ended') })
    assert.equal(accepted.deliveries, 1)
    hub.start()
    // The sweep deletes the webhook (failing its deliveries) and then the session row: wait for both.
    const ended = await waitFor('the sweep', async () => {
      const delivery = await deliveryOf(store, workspaceId, accepted.eventId)
      return delivery.status === 'failed' && await store.getCliSession(workspaceId, 'cls_dead') === null ? delivery : null
    })
    assert.equal(ended.lastError, 'cli session ended')
  } finally {
    await hub.stop()
    await store.close()
    await dropSchema(schema)
  }
})
