/**
 * PostgreSQL faults, through the real service: `node dist/cli/main.js serve` on a database of its
 * own, events posted continuously through the HTTP API to a real receiver.
 * - Its backends are terminated (pg_terminate_backend) again and again under load: the process
 *   stays up, every request answers 202 or 503 STORE_UNAVAILABLE (never a 500, never a hang),
 *   and every event that got a 202 reaches the receiver.
 * - The database refuses connections for a while (ALLOW_CONNECTIONS false, as during a restart):
 *   /healthz answers 503 and requests 503 STORE_UNAVAILABLE; once it is back, /healthz is 200
 *   again and a retry that fell due during the outage is sent without any new request.
 * - The network to the database goes silent (a TCP proxy stops passing bytes but closes nothing,
 *   as when a host or a link vanishes): every request still answers, 202 or 503, and once new
 *   connections get through again the service works on, with the silent ones never coming back.
 * Only this test's own database is touched, so tests running beside it on `test` are safe.
 * Needs `npm run build` first (npm test does it).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminQuery as admin, createTestDatabase, TEST_DATABASE_URL } from '../helpers/postgres.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'
import type { Service } from '../helpers/served.js'
import { createWebhook, health, MAIN, postEvent, startReceiver, startService, stopService, waitFor } from '../helpers/served.js'

async function terminateBackends (database: string): Promise<number> {
  const rows = await admin<{ n: number }>(
    'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database])
  return rows[0]?.n ?? 0
}

interface Load {
  accepted: Set<string>
  /** Answers other than 202 or 503 STORE_UNAVAILABLE, and requests that failed (postEvent gives up after 30 s). */
  unexpected: string[]
  unavailable (): number
  stop (): Promise<void>
}

/** `clients` producers posting events back to back until stopped. */
function startLoad (running: Service, clients: number, prefix: string): Load {
  const accepted = new Set<string>()
  const unexpected: string[] = []
  let unavailable = 0
  let loading = true
  let sequence = 0
  const producers = Array.from({ length: clients }, async () => {
    while (loading) {
      const eventId = `${prefix}${sequence++}`
      try {
        const outcome = await postEvent(running, eventId)
        if (outcome.status === 202 && outcome.eventId === eventId) accepted.add(eventId)
        else if (outcome.status === 503 && outcome.code === 'STORE_UNAVAILABLE') unavailable++
        else unexpected.push(`${outcome.status} ${outcome.body}`)
      } catch (err) {
        unexpected.push(`request failed: ${String(err)}`)
        return
      }
    }
  })
  return {
    accepted,
    unexpected,
    unavailable: () => unavailable,
    async stop () {
      loading = false
      await Promise.all(producers)
    },
  }
}

test('postgres: backends terminated under load — the process stays up, no 500, every 202 event is delivered', { timeout: 240_000 }, async (t) => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const db = await createTestDatabase('kejue_outage')
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-pg-outage-'))
  const receiver = await startReceiver()
  let service: Service | null = null
  try {
    service = await startService(dataDir, db.url)
    const running = service
    await createWebhook(running, receiver.url)

    // Eight clients posting back to back until told to stop.
    const { accepted, unexpected, unavailable, stop } = startLoad(running, 8, 'evt_load_')

    let terminated = 0
    for (let round = 1; round <= 5; round++) {
      const before = accepted.size
      await waitFor(`events accepted before kill ${round}`, () => accepted.size >= before + 40 || unexpected.length > 0 ? true : null)
      terminated += await terminateBackends(db.name)
    }
    // Accepting goes on after the last kill, with nothing restarted by hand.
    const afterKills = accepted.size
    await waitFor('events accepted after the kills', () => accepted.size >= afterKills + 40 || unexpected.length > 0 ? true : null)
    await stop()

    assert.deepEqual(unexpected, [], 'every request answered 202 or 503 STORE_UNAVAILABLE')
    assert.ok(terminated >= 5, `backends were terminated (${terminated})`)
    assert.equal(running.child.exitCode, null, `the service is still running; stderr:\n${running.stderr()}`)
    await waitFor('every accepted event at the receiver', () => [...accepted].every((id) => receiver.received.has(id)) ? true : null, 120_000)
    assert.equal(await health(running), 200)
    assert.doesNotMatch(running.stderr(), /Unhandled 'error' event|57P01.*\n.*at /, 'no crash trace')
    t.diagnostic(`${accepted.size} accepted, ${unavailable()} answered 503, ${terminated} backends terminated`)
  } finally {
    if (service !== null) await stopService(service)
    await receiver.close()
    await db.drop()
    await rm(dataDir, { recursive: true, force: true })
  }
})

test('postgres: while the database refuses connections /healthz is 503 and requests 503 STORE_UNAVAILABLE; after, 200 and the engine resumes on its own', { timeout: 240_000 }, async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const db = await createTestDatabase('kejue_outage')
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-pg-outage-'))
  // This event is refused until the database is back: its retries fall due during the outage.
  let recovered = false
  const accepted: number[] = []
  const receiver = await startReceiver((eventId, attempt) => {
    if (eventId !== 'evt_retry_me') return 200
    if (!recovered) return 500
    accepted.push(attempt)
    return 200
  })
  let service: Service | null = null
  let blocked = false
  try {
    service = await startService(dataDir, db.url)
    const running = service
    await createWebhook(running, receiver.url)
    assert.equal(await health(running), 200)
    assert.equal((await postEvent(running, 'evt_before')).status, 202)
    await waitFor('the first event delivered', () => receiver.received.get('evt_before'))

    assert.equal((await postEvent(running, 'evt_retry_me')).status, 202)
    await waitFor('the first attempt', () => receiver.received.get('evt_retry_me'))
    // A restart, as clients see it: every connection dropped and new ones refused.
    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`)
    blocked = true
    await terminateBackends(db.name)

    await waitFor('/healthz 503', async () => await health(running) === 503 ? true : null)
    const during = await waitFor('a request answered 503', async () => {
      const outcome = await postEvent(running, `evt_during_${randomBytes(3).toString('hex')}`)
      assert.notEqual(outcome.status, 500, outcome.body)
      return outcome.status === 503 ? outcome : null
    })
    assert.equal(during.code, 'STORE_UNAVAILABLE', during.body)
    // Stay down long enough for the engine's claims to fail a few times (no assertion on time).
    await new Promise((resolve) => setTimeout(resolve, 3_000))

    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`)
    blocked = false
    recovered = true
    await waitFor('/healthz 200 again', async () => await health(running) === 200 ? true : null)
    // No request made: the engine's own loop finds the retry that fell due.
    await waitFor('the retry sent after the outage', () => accepted.length > 0 ? true : null)
    assert.ok((accepted[0] ?? 0) >= 2, 'it was a retry')
    assert.equal((await postEvent(running, 'evt_after')).status, 202)
    await waitFor('an event after the outage delivered', () => receiver.received.get('evt_after'))
    assert.equal(running.child.exitCode, null, `the service is still running; stderr:\n${running.stderr()}`)
    // One line when the outage starts and one when it ends, not one per failed claim.
    const engineLines = running.stderr().split('\n').filter((line) => line.includes('claiming deliveries failed'))
    assert.ok(engineLines.length <= 2, `the outage is logged once, not per claim:\n${engineLines.join('\n')}`)
  } finally {
    if (blocked) await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).catch(() => undefined)
    if (service !== null) await stopService(service)
    await receiver.close()
    await db.drop()
    await rm(dataDir, { recursive: true, force: true })
  }
})

test('postgres: connections that go silent (no FIN, no answer) — every request answers, and the service works on once the network is back', { timeout: 240_000 }, async (t) => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const db = await createTestDatabase('kejue_outage')
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-pg-outage-'))
  const url = new URL(db.url)
  const proxy = await startTcpProxy(url.hostname, Number(url.port === '' ? 5432 : url.port))
  url.host = `127.0.0.1:${proxy.port}`
  const receiver = await startReceiver()
  let service: Service | null = null
  try {
    // A short query timeout, so the test need not wait out the default 15 s.
    service = await startService(dataDir, url.toString(), { env: { KEJUE_DATABASE_QUERY_TIMEOUT_MS: '1000' } })
    const running = service
    await createWebhook(running, receiver.url)

    const { accepted, unexpected, unavailable, stop } = startLoad(running, 4, 'evt_silent_')
    await waitFor('events accepted before the silence', () => accepted.size >= 40 || unexpected.length > 0 ? true : null)
    // Mid-load, so statements and transactions are under way on the connections that fall silent.
    proxy.silence()
    await waitFor('a request answered 503 while silent', () => unavailable() > 0 || unexpected.length > 0 ? true : null)
    proxy.restore()
    const afterSilence = accepted.size
    await waitFor('events accepted after the silence', () => accepted.size >= afterSilence + 40 || unexpected.length > 0 ? true : null)
    await stop()

    assert.deepEqual(unexpected, [], 'every request answered 202 or 503 STORE_UNAVAILABLE, none hung')
    // The engine, too, gave up on its silent connections: everything accepted arrives.
    await waitFor('every accepted event at the receiver', () => [...accepted].every((id) => receiver.received.has(id)) ? true : null, 120_000)
    assert.equal(await health(running), 200)
    assert.equal(running.child.exitCode, null, `the service is still running; stderr:\n${running.stderr()}`)
    t.diagnostic(`${accepted.size} accepted, ${unavailable()} answered 503`)
  } finally {
    if (service !== null) await stopService(service)
    await receiver.close()
    await proxy.close()
    await db.drop()
    await rm(dataDir, { recursive: true, force: true })
  }
})

test('postgres: a database that cannot be reached or opened at start-up — exit 1 with one line naming where, never the password', async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-pg-start-'))
  // A port nothing listens on.
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const { port } = closed.address() as AddressInfo
  await new Promise((resolve) => closed.close(resolve))
  try {
    const missing = new URL(TEST_DATABASE_URL)
    missing.password = 'pw-never-printed'
    missing.pathname = '/kejue_no_such_database'
    const cases: Array<[string, RegExp]> = [
      [`postgres://kejue:pw-never-printed@127.0.0.1:${port}/kejue`, new RegExp(`cannot open PostgreSQL at 127\\.0\\.0\\.1:${port}/kejue \\(ECONNREFUSED\\)`)],
      [missing.toString(), /cannot open PostgreSQL at .*\/kejue_no_such_database \(database "kejue_no_such_database" does not exist\)/],
    ]
    for (const [url, expected] of cases) {
      const run = spawnSync(process.execPath, [MAIN, 'serve'], {
        env: { ...process.env, KEJUE_DATA_DIR: dataDir, KEJUE_DATABASE_URL: url, DATABASE_URL: '', KEJUE_PORT: '0', KEJUE_LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 60_000,
      })
      assert.equal(run.status, 1, run.stderr)
      assert.match(run.stderr, expected)
      assert.doesNotMatch(run.stderr + run.stdout, /pw-never-printed|\n\s+at /, 'no password, no stack trace')
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})
