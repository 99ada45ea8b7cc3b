import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { seed } from './contract/store-fixtures.js'

const CHILD = join(import.meta.dirname, 'helpers', 'sqlite-record-events.ts')
// Enough acknowledged writes that the kill lands in the middle of the write loop.
const ACKS_BEFORE_KILL = 300

// Also with a commit gather (KEJUE_COMMIT_GATHER_MS): batches then wait for company, and what
// they answered must be on disk all the same.
for (const gatherMs of [0, 3]) {
  test(`sqlite: a SIGKILLed writer loses nothing it acknowledged (commit gather ${gatherMs} ms)`, { timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-durability-'))
    try {
      const path = join(dir, 'webhooks.db')
      const setup = await createSqliteStore({ path })
      const { ws, webhooks: [hook] } = await seed(setup, 1)
      await setup.close()
      assert.ok(hook)

      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, ws.id, hook.id, String(gatherMs)], { stdio: ['ignore', 'pipe', 'pipe'] })
      const events = new Map<string, string>()
      const settled = new Set<string>()
      let stderr = ''
      let buffered = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk
        const lines = buffered.split('\n')
        // Only whole lines are acknowledgements; a torn last line is not.
        buffered = lines.pop() ?? ''
        for (const line of lines) {
          const [kind, a, b] = line.split(' ')
          if (kind === 'event' && a !== undefined && b !== undefined) events.set(a, b)
          if (kind === 'settled' && a !== undefined) settled.add(a)
        }
        if (events.size >= ACKS_BEFORE_KILL && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      })
      const signal = await exited
      assert.equal(signal, 'SIGKILL', `the writer died by itself: ${stderr}`)
      assert.ok(events.size >= ACKS_BEFORE_KILL)
      assert.ok(settled.size > 0)

      const check = new Database(path)
      assert.equal(check.pragma('integrity_check', { simple: true }), 'ok')
      check.close()

      const store = await createSqliteStore({ path })
      try {
        for (const [eventId, deliveryId] of events) {
          assert.notEqual(await store.getEvent(ws.id, eventId), null, `event ${eventId} was acknowledged`)
          const delivery = await store.getDelivery(ws.id, deliveryId)
          assert.notEqual(delivery, null, `delivery ${deliveryId} was acknowledged`)
        }
        for (const deliveryId of settled) {
          assert.equal((await store.getDelivery(ws.id, deliveryId))?.status, 'succeeded', `settlement of ${deliveryId} was acknowledged`)
          assert.equal((await store.listAttempts(deliveryId)).length, 1)
        }
      } finally {
        await store.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
