import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import type { EventType } from '../../src/events/event-types.js'
import { newId } from '../../src/util/ids.js'
import { startHarness } from '../helpers/engine-harness.js'
import type { Harness } from '../helpers/engine-harness.js'

// Routing is decided when an event is accepted: these tests read which deliveries were stored
// (to be sent: a disabled webhook's parked ones are read apart).
async function targets (h: Harness, event: EventType, data: Record<string, unknown>, status: 'pending' | 'parked' = 'pending'): Promise<string[]> {
  const { deliveryIds } = await acceptEvent(h.store, { workspaceId: h.workspaceId, event, data })
  const webhookIds: string[] = []
  for (const id of deliveryIds) {
    const delivery = await h.store.getDelivery(h.workspaceId, id)
    assert.ok(delivery !== null)
    if (delivery.status === status) webhookIds.push(delivery.webhookId)
  }
  return webhookIds.sort()
}

test('"*" gets every event type; a list gets only its types; a disabled webhook gets them parked', async () => {
  const h = await startHarness({ start: false })
  try {
    const all = await h.addWebhook({ url: 'https://example.com/all', events: ['*'] })
    const ended = await h.addWebhook({ url: 'https://example.com/ended', events: ['call.ended', 'campaign.ended'] })
    const off = await h.addWebhook({ url: 'https://example.com/off', events: ['*'], enabled: false })
    assert.deepEqual(await targets(h, 'call.ended', samplePayload('call.ended')), [all.id, ended.id].sort())
    assert.deepEqual(await targets(h, 'call.started', samplePayload('call.started')), [all.id])
    assert.deepEqual(await targets(h, 'campaign.ended', samplePayload('campaign.ended')), [all.id, ended.id].sort())
    assert.deepEqual(await targets(h, 'campaign.paused', samplePayload('campaign.paused')), [all.id])
    assert.deepEqual(await targets(h, 'campaign.paused', samplePayload('campaign.paused'), 'parked'), [off.id])
  } finally {
    await h.close()
  }
})

test('a persona-scoped webhook gets only its persona\'s calls, including call.ended and call.analyzed that do not name it', async () => {
  const h = await startHarness({ start: false })
  try {
    const global = await h.addWebhook({ url: 'https://example.com/global' })
    const mine = await h.addWebhook({ url: 'https://example.com/mine', scopeType: 'persona', personaId: 'per_mine' })
    const jobId = newId('job')
    const otherJob = newId('job')
    assert.deepEqual(await targets(h, 'call.started', { ...samplePayload('call.started'), job_id: jobId, persona_id: 'per_mine' }), [global.id, mine.id].sort())
    assert.deepEqual(await targets(h, 'call.started', { ...samplePayload('call.started'), job_id: otherJob, persona_id: 'per_other' }), [global.id])

    // call.ended carries no persona_id: the job's persona is remembered from its call.started.
    const ended = { ...samplePayload('call.ended'), job_id: jobId }
    delete ended.persona_id
    assert.deepEqual(await targets(h, 'call.ended', ended), [global.id, mine.id].sort())
    const analyzed: Record<string, unknown> = { ...samplePayload('call.analyzed') }
    delete analyzed.persona_id
    assert.deepEqual(await targets(h, 'call.analyzed', { ...analyzed, call: { ...(analyzed.call as object), id: jobId } }), [global.id, mine.id].sort())
    const otherEnded = { ...samplePayload('call.ended'), job_id: otherJob }
    delete otherEnded.persona_id
    assert.deepEqual(await targets(h, 'call.ended', otherEnded), [global.id])
  } finally {
    await h.close()
  }
})

test('inline webhooks of a call replace the workspace\'s subscriptions for that call\'s call.* events only', async () => {
  const h = await startHarness({ start: false })
  try {
    const subscription = await h.addWebhook({ url: 'https://example.com/all', events: ['*'] })
    const jobId = newId('job')
    const inlineEnded = newId('wh')
    const inlineStarted = newId('wh')
    const inline = (id: string, events: string[]): Parameters<typeof h.store.createCall>[1][number] => ({
      id, workspaceId: h.workspaceId, url: `https://example.com/${id}`, events, name: null,
      signingMethod: 'hmac_sha256', secret: 'whsec_inline', scopeType: 'global', personaId: null,
      enabled: true, jobId, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500,
    })
    await h.store.createCall(
      { workspaceId: h.workspaceId, jobId, personaId: 'per_abc', hasInlineWebhooks: true, createdAt: new Date() },
      [inline(inlineEnded, ['call.ended', 'call.analyzed']), inline(inlineStarted, ['call.started'])],
    )
    assert.deepEqual(await targets(h, 'call.started', { ...samplePayload('call.started'), job_id: jobId }), [inlineStarted])
    assert.deepEqual(await targets(h, 'call.ended', { ...samplePayload('call.ended'), job_id: jobId }), [inlineEnded])
    const analyzed = samplePayload('call.analyzed')
    assert.deepEqual(await targets(h, 'call.analyzed', { ...analyzed, call: { ...(analyzed.call as object), id: jobId } }), [inlineEnded])
    // Another call, and campaign events, still go to the subscriptions.
    assert.deepEqual(await targets(h, 'call.ended', { ...samplePayload('call.ended'), job_id: newId('job') }), [subscription.id])
    assert.deepEqual(await targets(h, 'campaign.ended', samplePayload('campaign.ended')), [subscription.id])
    // Inline webhooks never show up as subscriptions.
    assert.deepEqual((await h.store.listWebhooks(h.workspaceId)).map((w) => w.id), [subscription.id])
  } finally {
    await h.close()
  }
})
