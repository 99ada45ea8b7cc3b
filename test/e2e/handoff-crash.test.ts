/**
 * Handoff under a crash, through the real service: events accepted by `serve` (API and engine in
 * one process) are recorded already leased to its engine and sent at once. The receiver holds
 * every request open; the process is killed with SIGKILL while they hang. A new process on the
 * same store delivers every one of them, once each, after their lease (KEJUE_LEASE_MS) runs out:
 * a handed-off delivery is lost no more than a claimed one (this is the durability side; that
 * they were handed off and not claimed is test/delivery/handoff.test.ts). SQLite and PostgreSQL.
 * Needs `npm run build` first.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '../helpers/postgres.js'
import type { Service } from '../helpers/served.js'
import { createWebhook, MAIN, postEvent, startService, stopService, waitFor } from '../helpers/served.js'

/** Holds every request open while `holding`; afterwards answers 200 and records the event id. */
async function startHangingReceiver () {
  const seen = new Set<string>()
  const delivered = new Map<string, number>()
  let holding = true
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const eventId = String(req.headers['x-kejue-event-id'])
      seen.add(eventId)
      if (holding) return
      delivered.set(eventId, (delivered.get(eventId) ?? 0) + 1)
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    seen,
    delivered,
    answer: () => { holding = false },
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

async function withDatabase<T> (kind: 'sqlite' | 'postgres', fn: (databaseUrl: string) => Promise<T>): Promise<T> {
  if (kind === 'sqlite') return await fn('')
  const db = await createTestDatabase('kejue_handoff')
  try {
    return await fn(db.url)
  } finally {
    await db.drop()
  }
}

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`${kind}: handed-off deliveries in flight when the process is SIGKILLed are delivered by the next one after their lease`, { timeout: 180_000 }, async () => {
    assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
    const dataDir = await mkdtemp(join(tmpdir(), 'kejue-handoff-crash-'))
    const receiver = await startHangingReceiver()
    const env = { KEJUE_LEASE_MS: '2000', KEJUE_BREAKER_THRESHOLD: '0' }
    let service: Service | null = null
    try {
      await withDatabase(kind, async (databaseUrl) => {
        const first = await startService(dataDir, databaseUrl, { env })
        service = first
        await createWebhook(first, receiver.url)
        const ids = Array.from({ length: 20 }, (_, i) => `evt_handoff_${kind}_${i}`)
        for (const id of ids) assert.equal((await postEvent(first, id)).status, 202)
        await waitFor('every event in flight at the receiver', () => ids.every((id) => receiver.seen.has(id)), 60_000)
        first.child.kill('SIGKILL')
        await first.exited
        receiver.answer()

        const second = await startService(dataDir, databaseUrl, { env, apiKey: first.apiKey })
        service = second
        await waitFor('every event delivered after the restart', () => ids.every((id) => receiver.delivered.has(id)), 90_000)
        await new Promise((resolve) => setTimeout(resolve, 500))
        assert.deepEqual([...receiver.delivered.values()].filter((n) => n !== 1), [], 'the next process sent each once')
        await stopService(second)
        service = null
      })
    } finally {
      const running: Service | null = service
      if (running !== null) await stopService(running)
      await receiver.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
}
