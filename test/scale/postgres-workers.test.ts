/**
 * Scale-out as users run it: one `serve --role api` and three `serve --role worker` processes
 * (the built CLI) on one PostgreSQL database made for this test. One worker is SIGKILLed mid-run.
 * Needs `npm run build` first (npm test does it).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { samplePayload } from '../../src/events/samples.js'
import { createTestDatabase } from '../helpers/postgres.js'
import { waitFor } from '../helpers/wait-for.js'

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const EVENTS = 5_000
const LEASE_MS = 3_000
const ADMIN_KEY = `ka_test_${randomBytes(12).toString('hex')}`

interface Proc { child: ChildProcess, output: () => string }

function serve (role: 'api' | 'worker', url: string): Proc {
  const child = spawn(process.execPath, [MAIN, 'serve', '--role', role, '--port', '0'], {
    env: {
      ...process.env,
      KEJUE_DATABASE_URL: url,
      KEJUE_ALLOW_PRIVATE_NETWORKS: 'true',
      KEJUE_ADMIN_KEY: ADMIN_KEY,
      KEJUE_LEASE_MS: String(LEASE_MS),
      KEJUE_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  return { child, output: () => out }
}


test('three workers and an API process on one PostgreSQL deliver 5,000 events; a SIGKILLed worker loses nothing', { timeout: 420_000 }, async (t) => {
  const db = await createTestDatabase('kejue_scale')
  const url = db.url

  // The receiver notes every request and whether the same delivery was ever in flight twice.
  const inFlight = new Set<string>()
  const arrivals: Array<{ deliveryId: string, eventId: string, attempt: string }> = []
  let overlaps = 0
  const receiver = createServer((req, res) => {
    const deliveryId = String(req.headers['x-kejue-delivery-id'])
    if (inFlight.has(deliveryId)) overlaps++
    inFlight.add(deliveryId)
    req.resume()
    req.on('end', () => {
      arrivals.push({ deliveryId, eventId: String(req.headers['x-kejue-event-id']), attempt: String(req.headers['x-kejue-attempt']) })
      setTimeout(() => {
        inFlight.delete(deliveryId)
        res.writeHead(200).end('ok')
      }, 5)
    })
    req.on('close', () => inFlight.delete(deliveryId))
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`

  const procs: Proc[] = []
  try {
    const api = serve('api', url)
    procs.push(api)
    const banner = await waitFor('the API banner', () => /Workspace API key: +(kw_\S+)/.test(api.output()) ? api.output() : null)
    const base = /listening on (http:\/\/\S+)/.exec(banner)?.[1]
    const key = /Workspace API key: +(kw_\S+)/.exec(banner)?.[1]
    assert.ok(base !== undefined && key !== undefined, banner)
    const headers = { 'x-api-key': key, 'content-type': 'application/json' }
    const created = await fetch(`${base}/api/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: receiverUrl, events: ['*'] }) })
    assert.equal(created.status, 201)

    const workers = [serve('worker', url), serve('worker', url), serve('worker', url)]
    procs.push(...workers)
    for (const w of workers) await waitFor('a worker', () => /worker started/.test(w.output()) ? true : null)

    const data = samplePayload('call.ended')
    const eventIds = new Set<string>()
    let next = 0
    const posting = Promise.all(Array.from({ length: 16 }, async () => {
      while (next < EVENTS) {
        next++
        const res = await fetch(`${base}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify({ event: 'call.ended', data }) })
        assert.equal(res.status, 202)
        eventIds.add(((await res.json()) as { event_id: string }).event_id)
      }
    }))

    // Kill one worker while deliveries are flowing.
    const victim = workers[0]
    assert.ok(victim !== undefined)
    await waitFor('deliveries flowing', () => arrivals.length >= EVENTS / 4 ? true : null, 60_000)
    victim.child.kill('SIGKILL')
    await once(victim.child, 'exit')
    await posting
    assert.equal(eventIds.size, EVENTS)
    const killedAt = Date.now()

    await waitFor('every event at the receiver', () => new Set(arrivals.map((a) => a.eventId)).size >= EVENTS ? true : null, 60_000)
    const afterKillMs = Date.now() - killedAt
    assert.deepEqual(new Set(arrivals.map((a) => a.eventId)), eventIds)
    assert.equal(overlaps, 0, 'no delivery ever had two attempts in flight at once')

    // The store agrees: every delivery succeeded, attempts numbered 1..n with n = attempt_count.
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const deadline = Date.now() + 30_000
      let pending = -1
      while (Date.now() < deadline) {
        const result = await client.query<{ n: string }>("SELECT count(*) AS n FROM deliveries WHERE status <> 'succeeded'")
        pending = Number(result.rows[0]?.n)
        if (pending === 0) break
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      assert.equal(pending, 0, 'every delivery is recorded as succeeded')
      const inconsistent = await client.query(`
        SELECT d.id FROM deliveries d LEFT JOIN attempts a ON a.delivery_id = d.id
        GROUP BY d.id, d.attempt_count
        HAVING count(a.id) <> d.attempt_count OR count(a.id) <> count(DISTINCT a.attempt) OR max(a.attempt) <> d.attempt_count`)
      assert.equal(inconsistent.rowCount, 0, 'attempt rows match each delivery\'s attempt count, numbered 1..n')
      const total = await client.query<{ n: string }>('SELECT count(*) AS n FROM deliveries')
      assert.equal(Number(total.rows[0]?.n), EVENTS)
    } finally {
      await client.end()
    }
    const duplicates = arrivals.length - EVENTS
    t.diagnostic(`${EVENTS} events, ${arrivals.length} requests: ${duplicates} duplicates (deliveries the killed worker held); the rest arrived ${afterKillMs} ms after the kill (lease ${LEASE_MS} ms)`)
    // A worker holds at most 2 × max in flight (512 by default) deliveries.
    assert.ok(duplicates <= 512, `duplicates (${duplicates}) are bounded by what the killed worker held`)
  } finally {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM')
        const [code] = await once(p.child, 'exit') as [number | null]
        assert.equal(code, 0, 'SIGTERM exits 0')
      }
    }
    await new Promise((resolve) => receiver.close(resolve))
    await db.drop()
  }
})
