import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { samplePayload } from '../../src/events/samples.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { newId } from '../../src/util/ids.js'
import { USER_AGENT } from '../../src/util/version.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { startReceiver } from '../helpers/receiver.js'

test('per-webhook attempt metrics (KEJUE_METRICS_PER_WEBHOOK) label subscriptions by id and every inline webhook as "inline"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-metrics-'))
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  const metrics = createMetrics({ store, perWebhook: true })
  const engine = createEngine({}, { store, sender, metrics })
  const receiver = await startReceiver({ respond: [404] })
  try {
    const workspaceId = newId('ws')
    await store.createWorkspace({ id: workspaceId, name: 'm', createdAt: new Date() })
    const subscription = await store.createWebhook(webhookInput(workspaceId, { url: receiver.url, events: ['campaign.ended'] }), new Date())
    const jobs = [newId('job'), newId('job'), newId('job')]
    const inlineIds: string[] = []
    for (const jobId of jobs) {
      const inline = webhookInput(workspaceId, { url: receiver.url, events: ['call.ended'], jobId })
      inlineIds.push(inline.id)
      await store.createCall({ workspaceId, jobId, personaId: null, hasInlineWebhooks: true, createdAt: new Date() }, [inline])
      await acceptEvent(store, { workspaceId, event: 'call.ended', data: { ...samplePayload('call.ended'), job_id: jobId } })
    }
    await acceptEvent(store, { workspaceId, event: 'campaign.ended', data: samplePayload('campaign.ended') })
    engine.start()
    await receiver.waitForRequests(4, 10_000)
    let text = ''
    for (let i = 0; i < 100 && !/kejue_webhook_attempts_total\{webhook_id="inline",outcome="rejected"\} 3/.test(text); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      text = await metrics.registry.metrics()
    }
    assert.match(text, /kejue_webhook_attempts_total\{webhook_id="inline",outcome="rejected"\} 3/)
    assert.match(text, new RegExp(`kejue_webhook_attempts_total\\{webhook_id="${subscription.id}",outcome="rejected"\\} 1`))
    for (const id of inlineIds) assert.ok(!text.includes(id), 'no series per inline webhook')
  } finally {
    await engine.stop(1_000)
    await sender.close()
    await receiver.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
