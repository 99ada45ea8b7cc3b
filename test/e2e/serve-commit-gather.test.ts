/**
 * `serve` with KEJUE_COMMIT_GATHER_MS (docs/configuration.md, "Commit gather"): the setting
 * reaches the running service (its `listening` line says so), and events sent one at a time and
 * many at once are all accepted and delivered, on SQLite and on PostgreSQL. Needs `npm run build`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '../helpers/postgres.js'
import { createWebhook, postEvent, startReceiver, startService, stopService, waitFor } from '../helpers/served.js'

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`serve on ${kind} with a commit gather accepts and delivers every event`, { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-serve-gather-'))
    const database = kind === 'postgres' ? await createTestDatabase('kejue_gather') : undefined
    const receiver = await startReceiver()
    const service = await startService(dir, database?.url ?? '', { env: { KEJUE_COMMIT_GATHER_MS: '4', KEJUE_LOG_LEVEL: 'info' } })
    try {
      await waitFor('the listening log line', () => /"msg":"listening"/.test(service.stderr()))
      assert.match(service.stderr(), /"commitGatherMs":4/)
      await createWebhook(service, receiver.url)
      const ids: string[] = []
      // One at a time (batches of one never wait), then many at once (batches that gather).
      for (let i = 0; i < 5; i++) {
        const id = `evt_alone_${i}`
        assert.equal((await postEvent(service, id)).status, 202)
        ids.push(id)
      }
      const together = Array.from({ length: 40 }, (_, i) => `evt_together_${i}`)
      const outcomes = await Promise.all(together.map(async (id) => await postEvent(service, id)))
      assert.deepEqual(outcomes.map((o) => o.status), together.map(() => 202))
      ids.push(...together)
      await waitFor('every event at the receiver', () => ids.every((id) => receiver.received.has(id)))
    } finally {
      await stopService(service)
      await receiver.close()
      await database?.drop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
