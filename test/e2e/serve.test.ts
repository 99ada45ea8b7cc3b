/**
 * The service as a new user runs it: `node dist/cli/main.js serve` on a fresh data dir, the API
 * key read from what it prints, a webhook to a local receiver, a call.ended event, a signed
 * delivery, then SIGTERM and exit 0. A second start on the same data prints no keys.
 * Needs `npm run build` first (npm test does it).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../helpers/wait-for.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAIN = join(ROOT, 'dist', 'cli', 'main.js')

interface Running {
  child: ChildProcessWithoutNullStreams
  stdout: () => string
  exited: Promise<number | null>
}

function start (dataDir: string): Running {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, KEJUE_DATA_DIR: dataDir, KEJUE_PORT: '0', KEJUE_ALLOW_PRIVATE_NETWORKS: 'true', KEJUE_LOG_LEVEL: 'warn', KEJUE_ADMIN_KEY: '', KEJUE_DATABASE_URL: '', DATABASE_URL: '' },
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    if (code !== 0) process.stderr.write(`serve stderr:\n${err}\n`)
    resolve(code)
  }))
  return { child, stdout: () => out, exited }
}

interface Received { headers: IncomingHttpHeaders, body: string }

test('serve: first start prints a key, a call.ended arrives signed, SIGTERM exits 0', { timeout: 150_000 }, async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-e2e-'))
  const received: Received[] = []
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/kejue`
  let running: Running | null = null
  try {
    running = start(dataDir)
    const first = running
    const banner = await waitFor('the banner', () => /Workspace API key: +(kw_\S+)/.test(first.stdout()) ? first.stdout() : null)
    const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1]
    const apiKey = /Workspace API key: +(kw_\S+)/.exec(banner)?.[1]
    assert.ok(url !== undefined && apiKey !== undefined, banner)
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'binds 127.0.0.1 by default')
    assert.match(banner, /Admin key: +ka_/)
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' }

    const created = await fetch(`${url}/api/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: receiverUrl, events: ['call.ended'] }) })
    assert.equal(created.status, 201)
    const webhook = await created.json() as { id: string, secret: string }

    const data = {
      job_id: 'job_e2e', contact_id: 'ct_789', status: 'completed', ended_reason: 'agent_hangup', duration_seconds: 295,
      transcript: 'Agent: Hello', recording_url: 'https://recordings.kejue.co/x',
      retry: { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 },
    }
    const published = await fetch(`${url}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify({ event: 'call.ended', data }) })
    assert.equal(published.status, 202, await published.clone().text())
    const { event_id: eventId, deliveries } = await published.json() as { event_id: string, deliveries: number }
    assert.equal(deliveries, 1)

    const delivery = await waitFor('the delivery', () => received[0])
    assert.equal(delivery.headers['x-kejue-event'], 'call.ended')
    assert.equal(delivery.headers['x-kejue-event-id'], eventId)
    assert.equal(delivery.headers['x-kejue-attempt'], '1')
    assert.match(String(delivery.headers['user-agent']), /^kejue-webhooks\//)
    const timestamp = String(delivery.headers['x-kejue-timestamp'])
    const expected = `sha256=${createHmac('sha256', webhook.secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`
    const signature = String(delivery.headers['x-kejue-signature'])
    assert.ok(signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected)), 'the signature verifies')
    assert.ok(Math.abs(Number(timestamp) - Date.now()) < 60_000)
    const envelope = JSON.parse(delivery.body) as { event: string, event_id: string, data: unknown }
    assert.equal(envelope.event_id, eventId)
    assert.deepEqual(envelope.data, data)

    const settled = await waitFor('the delivery to be recorded', async () => {
      const res = await fetch(`${url}/api/v1/deliveries/${String(delivery.headers['x-kejue-delivery-id'])}`, { headers })
      const json = await res.json() as { status: string, attempts: Array<{ status_code: number, response_excerpt: string }> }
      return json.status === 'succeeded' ? json : null
    })
    assert.equal(settled.attempts[0]?.status_code, 200)
    assert.equal(settled.attempts[0]?.response_excerpt, 'thanks')
    const stats = await (await fetch(`${url}/api/v1/webhooks/${webhook.id}`, { headers })).json() as { stats: { total_deliveries: number, success_rate: number } }
    assert.deepEqual(stats.stats, { total_deliveries: 1, failed_deliveries: 0, success_rate: 100, parked_deliveries: 0 })
    assert.equal((await fetch(`${url}/healthz`)).status, 200)

    first.child.kill('SIGTERM')
    assert.equal(await first.exited, 0, 'SIGTERM exits 0')

    // A later start on the same data prints only the URL, and the key still works.
    running = start(dataDir)
    const second = running
    const again = await waitFor('the second banner', () => /listening on (http:\/\/\S+)/.exec(second.stdout())?.[1])
    assert.ok(!second.stdout().includes('kw_') && !second.stdout().includes('ka_'), 'no secrets on later starts')
    assert.equal((await fetch(`${again}/api/v1/webhooks`, { headers })).status, 200)
    second.child.kill('SIGINT')
    assert.equal(await second.exited, 0, 'SIGINT exits 0')
    running = null
  } finally {
    if (running !== null && running.child.exitCode === null) {
      running.child.kill('SIGKILL')
      await running.exited
    }
    await new Promise((resolve) => receiver.close(resolve))
    await rm(dataDir, { recursive: true, force: true })
  }
})

test('serve: a bad setting stops the start with exit 1 and names the setting and its source', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const child = spawn(process.execPath, [MAIN, 'serve', '--log-level', 'loud'], { cwd: ROOT, env: { ...process.env, KEJUE_PORT: 'abc' } })
  let err = ''
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  assert.equal(code, 1)
  assert.match(err, /KEJUE_PORT \(env\) must be an integer 0–65535, got "abc"/)
  assert.match(err, /--log-level \(flag\) must be one of/)
})

test('npm start: SIGTERM to npm stops the server too (the README\'s command under a process manager)', { timeout: 150_000 }, async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-npm-start-'))
  // Its own process group, so cleanup can reach a server that outlived npm.
  const child = spawn('npm', ['start', '--silent'], {
    detached: true,
    cwd: ROOT,
    env: { ...process.env, KEJUE_DATA_DIR: dataDir, KEJUE_PORT: '0', KEJUE_LOG_LEVEL: 'warn', KEJUE_ADMIN_KEY: '', KEJUE_DATABASE_URL: '', DATABASE_URL: '' },
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const url = await waitFor('the banner', () => /listening on (http:\/\/\S+)/.exec(out)?.[1])
    assert.equal((await fetch(`${url}/healthz`)).status, 200)
    child.kill('SIGTERM')
    await exited
    await waitFor('the server to stop', async () => {
      try {
        await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) })
        return null
      } catch {
        return true
      }
    }, 15_000)
  } finally {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // The group is already gone: the server stopped, as it should.
    }
    await rm(dataDir, { recursive: true, force: true })
  }
})
