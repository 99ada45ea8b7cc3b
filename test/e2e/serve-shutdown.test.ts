/**
 * A SIGTERM ends `serve` once its grace period (KEJUE_SHUTDOWN_GRACE_MS) is over, even while an
 * attempt still waits for a receiver that never answers: the engine hands that delivery back, and
 * the sender then aborts the request instead of waiting for its timeout (30 s here). The next
 * process delivers it. Both senders: the sender thread (default) and the in-process one. Needs
 * `npm run build`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { postEvent, startService, waitFor } from '../helpers/served.js'

for (const senderThread of ['true', 'false']) {
  test(`serve (sender thread ${senderThread}): SIGTERM with an attempt hanging at the receiver exits after the grace period, and the next start delivers it`, { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-serve-shutdown-'))
    let answering = false
    const arrivals: string[] = []
    const server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        arrivals.push(String(req.headers['x-kejue-event-id']))
        // Until the restart, the receiver holds every request open and never answers.
        if (answering) res.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
    const env = { KEJUE_SHUTDOWN_GRACE_MS: '300', KEJUE_SENDER_THREAD: senderThread }
    try {
      const first = await startService(dir, '', { env })
      const created = await fetch(`${first.url}/api/v1/webhooks`, {
        method: 'POST',
        headers: { 'x-api-key': first.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ url, events: ['call.ended'], timeout_ms: 30_000, max_retries: 3, backoff_ms: 200 }),
      })
      assert.equal(created.status, 201, await created.text())
      assert.equal((await postEvent(first, 'evt_shutdown_hang')).status, 202)
      await waitFor('the attempt to reach the receiver', () => arrivals.length === 1, 30_000)

      const signalled = performance.now()
      first.child.kill('SIGTERM')
      // Without the abort, the exit waited for the attempt's 30 s timeout. The bound leaves the
      // 300 ms grace ample room on a loaded machine and stays far below that timeout.
      const exit = await Promise.race([first.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 20_000).unref())])
      const seconds = (performance.now() - signalled) / 1000
      if (exit === 'still running') first.child.kill('SIGKILL')
      assert.equal(exit, 0, `exit after ${seconds.toFixed(1)} s; stderr: ${first.stderr()}`)
      assert.match(first.stderr(), /handing their deliveries back/)

      // Handed back, not lost: the next process sends it again (a new attempt, the same event).
      answering = true
      const second = await startService(dir, '', { env, apiKey: first.apiKey })
      try {
        await waitFor('the delivery to be sent again', () => arrivals.length >= 2, 60_000)
        assert.deepEqual([...new Set(arrivals)], ['evt_shutdown_hang'])
      } finally {
        second.child.kill('SIGTERM')
        await second.exited
      }
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
