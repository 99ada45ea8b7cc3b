import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import { startReceiver } from '../helpers/receiver.js'

const CHILD = new URL('./engine-child.ts', import.meta.url).pathname

async function startChild (path: string, leaseMs: number, graceMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(leaseMs), String(graceMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = await once(child.stdout as NodeJS.ReadableStream, 'data') as [Buffer]
  assert.match(chunk.toString(), /ready/)
  return child
}

async function prepare (path: string, url: string, events: number): Promise<{ workspaceId: string, deliveryIds: string[] }> {
  const store: Store = await createSqliteStore({ path })
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'crash', createdAt: new Date() })
  await store.createWebhook({
    id: newId('wh'), workspaceId, url, events: ['*'], name: null, signingMethod: 'hmac_sha256', secret: 'whsec_crash',
    scopeType: 'global', personaId: null, enabled: true, jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 200,
  }, new Date())
  const deliveryIds: string[] = []
  for (let i = 0; i < events; i++) {
    const accepted = await acceptEvent(store, { workspaceId, event: 'call.ended', data: samplePayload('call.ended') })
    deliveryIds.push(...accepted.deliveryIds)
  }
  await store.close()
  return { workspaceId, deliveryIds }
}

test('after SIGKILL with 1,000 events in flight, a restarted engine delivers every event at least once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-crash-'))
  const path = join(dir, 'webhooks.db')
  // Slow answers keep many requests in flight when the process dies.
  const receiver = await startReceiver({ respond: [{ status: 200, delayMs: 40 }] })
  let child: ChildProcess | null = null
  try {
    const { workspaceId, deliveryIds } = await prepare(path, receiver.url, 1_000)
    child = await startChild(path, 2_000, 5_000)
    await receiver.waitForRequests(150, 20_000)
    child.kill('SIGKILL')
    await once(child, 'exit')
    const beforeRestart = receiver.requests.length
    assert.ok(beforeRestart < 1_000, 'the engine was killed before it finished')

    const restartedAt = Date.now()
    child = await startChild(path, 2_000, 5_000)
    const deadline = Date.now() + 30_000
    const eventIds = (): Set<string> => new Set(receiver.requests.map((r) => String(r.headers['x-kejue-event-id'])))
    while (eventIds().size < 1_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(eventIds().size, 1_000, 'every event reached the receiver')
    const tookMs = Date.now() - restartedAt

    // A duplicate is the same delivery sent again (same delivery id), never a new one.
    const byDelivery = new Map<string, Set<string>>()
    for (const r of receiver.requests) {
      const id = String(r.headers['x-kejue-delivery-id'])
      const set = byDelivery.get(id) ?? new Set()
      set.add(String(r.headers['x-kejue-event-id']))
      byDelivery.set(id, set)
    }
    assert.equal(byDelivery.size, 1_000)
    assert.ok([...byDelivery.values()].every((s) => s.size === 1))
    assert.deepEqual([...byDelivery.keys()].sort(), [...deliveryIds].sort())
    const duplicates = receiver.requests.length - 1_000
    t.diagnostic(`killed after ${beforeRestart} requests; after restart all 1000 events arrived within ${tookMs} ms; ${duplicates} duplicate deliveries (in flight when killed)`)
    assert.ok(duplicates <= 1_024, 'duplicates are bounded by what the killed engine held')

    child.kill('SIGTERM')
    const [code] = await once(child, 'exit') as [number | null]
    child = null
    assert.equal(code, 0)
    const store = await createSqliteStore({ path })
    try {
      const page = await store.listDeliveries({ workspaceId, status: 'pending', limit: 10 })
      assert.equal(page.data.length, 0, 'nothing is left pending')
    } finally {
      await store.close()
    }
  } finally {
    child?.kill('SIGKILL')
    await receiver.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('SIGTERM lets attempts in flight finish, records them, and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-term-'))
  const path = join(dir, 'webhooks.db')
  const receiver = await startReceiver({ respond: [{ status: 200, delayMs: 700 }] })
  let child: ChildProcess | null = null
  try {
    const { workspaceId, deliveryIds } = await prepare(path, receiver.url, 10)
    child = await startChild(path, 20_000, 30_000)
    await receiver.waitForRequests(10, 30_000)
    const termAt = Date.now()
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit') as [number | null]
    child = null
    assert.equal(code, 0)
    // Its requests take 700 ms: it exits when they are done, not when the 30 s grace runs out.
    assert.ok(Date.now() - termAt < 20_000, 'exits once its requests are done, well within the grace period')
    const store = await createSqliteStore({ path })
    try {
      for (const id of deliveryIds) {
        const delivery = await store.getDelivery(workspaceId, id)
        assert.equal(delivery?.status, 'succeeded', `${id} was recorded before exit`)
        assert.equal(delivery?.attemptCount, 1)
      }
    } finally {
      await store.close()
    }
  } finally {
    child?.kill('SIGKILL')
    await receiver.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
