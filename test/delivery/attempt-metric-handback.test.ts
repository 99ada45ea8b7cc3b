import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { createEngine } from '../../src/delivery/engine.js'
import type { AttemptSample } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { samplePayload } from '../../src/events/samples.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { newId } from '../../src/util/ids.js'
import { USER_AGENT } from '../../src/util/version.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'

test('an attempt still running when the engine stops is handed back, not recorded, and still counted in the attempts metric', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-handback-'))
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  const samples: AttemptSample[] = []
  const engine = createEngine({}, { store, sender, metrics: { recordAttempt (sample) { samples.push(sample) } } })
  // Answers after the engine has stopped (its grace below is far shorter).
  const receiver = await startReceiver({ respond: [{ status: 200, delayMs: 1_500 }] })
  try {
    const workspaceId = newId('ws')
    await store.createWorkspace({ id: workspaceId, name: 'h', createdAt: new Date() })
    await store.createWebhook(webhookInput(workspaceId, { url: receiver.url, events: ['call.ended'] }), new Date())
    const accepted = await acceptEvent(store, { workspaceId, event: 'call.ended', data: samplePayload('call.ended') })
    engine.start()
    await receiver.waitForRequests(1, 10_000)
    await engine.stop(50)
    // Handed back: still pending in the store, for the next engine to send again.
    const [id] = accepted.deliveryIds
    const delivery = await store.getDelivery(workspaceId, id ?? '')
    assert.equal(delivery?.status, 'pending')
    // The request was made and answered: the metric counts it like the receiver did.
    await waitFor('the handed-back attempt to end', () => samples.length > 0, 10_000)
    assert.equal(samples.length, receiver.requests.length)
    assert.deepEqual({ outcome: samples[0]?.outcome, final: samples[0]?.final }, { outcome: 'delivered', final: null })
  } finally {
    await sender.close()
    await receiver.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
