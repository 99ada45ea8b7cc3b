/**
 * `kejue-webhooks listen --forward-to` end to end, as a user runs it: the built service
 * (`serve`, default SSRF settings: private addresses refused) and the built CLI as two processes,
 * and a local app on 127.0.0.1 that verifies with the secret the CLI printed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { samplePayload } from '../../src/events/samples.js'
import { safeVerify } from '../../src/receiver/index.js'
import { newId } from '../../src/util/ids.js'
import { waitFor } from '../helpers/wait-for.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAIN = join(ROOT, 'dist', 'cli', 'main.js')

interface Running {
  child: ChildProcessWithoutNullStreams
  output: () => string
  exited: Promise<number | null>
}

function run (args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

interface Arrival { eventId: string, attempt: string, verified: boolean, status: number }

test('listen --forward-to: deliveries reach a local app signed with the printed secret, a local 500 is retried, a local 503\'s Retry-After is honoured, and Ctrl-C removes the session', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-listen-'))
  // The local app: answers by event id, verifying each delivery with the CLI's printed secret.
  let secret = ''
  const script = new Map<string, number[]>()
  // Retry-After sent with a 503 to these events.
  const retryAfter = new Map<string, string>()
  const arrivals: Arrival[] = []
  const app = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const verified = safeVerify(Buffer.concat(chunks), req.headers, { secret }).ok
      const eventId = String(req.headers['x-kejue-event-id'])
      const planned = script.get(eventId) ?? [204]
      const status = verified ? (planned.length > 1 ? planned.shift() ?? 204 : planned[0] ?? 204) : 400
      arrivals.push({ eventId, attempt: String(req.headers['x-kejue-attempt']), verified, status })
      const asked = retryAfter.get(eventId)
      res.writeHead(status, status === 503 && asked !== undefined ? { 'retry-after': asked } : {}).end()
    })
  })
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
  const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/webhooks/kejue`

  const service = run(['serve'], {
    KEJUE_DATA_DIR: dataDir, KEJUE_PORT: '0', KEJUE_ALLOW_PRIVATE_NETWORKS: 'false', KEJUE_LOG_LEVEL: 'warn',
    KEJUE_ADMIN_KEY: '', KEJUE_DATABASE_URL: '', DATABASE_URL: '',
  })
  let cli: Running | null = null
  try {
    const banner = await waitFor('the service banner', () => /Workspace API key: +(kw_\S+)/.test(service.output()) ? service.output() : null)
    const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1] ?? ''
    const key = /Workspace API key: +(kw_\S+)/.exec(banner)?.[1] ?? ''
    const api = async (method: string, path: string, body?: unknown): Promise<{ status: number, json: unknown }> => {
      const response = await fetch(`${url}/api/v1${path}`, {
        method, headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      return { status: response.status, json: text === '' ? null : JSON.parse(text) as unknown }
    }

    // Default SSRF settings: a normal webhook to the same local app is still refused.
    const refused = await api('POST', '/webhooks', { url: appUrl, events: ['call.ended'] })
    assert.equal(refused.status, 422)
    assert.equal((refused.json as { code: string }).code, 'DESTINATION_NOT_ALLOWED')

    cli = run(['listen', '--forward-to', appUrl, '--url', url, '--workspace-key', key, '--events', 'call.ended'], {})
    const running = cli
    secret = await waitFor('the printed secret', () => /signing secret is (whsec_\S+)/.exec(running.output())?.[1])
    assert.deepEqual((await api('GET', '/webhooks')).json, [], 'the session\'s webhook is not listed')

    // A local 500 is retried on the normal schedule; the retry verifies and succeeds.
    const retried = newId('evt')
    script.set(retried, [500, 204])
    const accepted = await api('POST', '/events', { event: 'call.ended', event_id: retried, data: samplePayload('call.ended') })
    assert.equal(accepted.status, 202)
    assert.equal((accepted.json as { deliveries: number }).deliveries, 1)
    const done = await waitFor('the retried delivery to succeed', async () => {
      const event = await api('GET', `/events/${retried}`)
      const delivery = (event.json as { deliveries: Array<{ id: string, status: string, attempts: Array<{ status_code: number | null }> }> }).deliveries[0]
      return delivery?.status === 'succeeded' ? delivery : null
    })
    assert.deepEqual(done.attempts.map((a) => a.status_code), [500, 204])
    assert.deepEqual(arrivals.filter((a) => a.eventId === retried).map((a) => [a.attempt, a.verified]), [['1', true], ['2', true]])
    await waitFor('a line per delivery', () => new RegExp(`call\\.ended +${done.id}  attempt 2  → 204`).test(running.output()) ? true : null)
    assert.match(running.output(), new RegExp(`call\\.ended +${done.id}  attempt 1  → 500`))

    // A local 503 with Retry-After: 2 waits 2 s (not the scheduled 500 ms), as from any receiver.
    const later = newId('evt')
    script.set(later, [503, 204])
    retryAfter.set(later, '2')
    await api('POST', '/events', { event: 'call.ended', event_id: later, data: samplePayload('call.ended') })
    const waited = await waitFor('the delivery retried after Retry-After', async () => {
      const event = await api('GET', `/events/${later}`)
      const delivery = (event.json as { deliveries: Array<{ status: string, attempts: Array<{ started_at: string, duration_ms: number, status_code: number | null }> }> }).deliveries[0]
      return delivery?.status === 'succeeded' ? delivery : null
    })
    const [first, second] = waited.attempts
    assert.ok(first !== undefined && second !== undefined)
    assert.equal(first.status_code, 503)
    const gapMs = Date.parse(second.started_at) - (Date.parse(first.started_at) + first.duration_ms)
    assert.ok(gapMs >= 1_900, `the retry waited for Retry-After (${gapMs} ms after the 503)`)

    // One still pending (the app keeps failing) when the CLI stops: it ends failed.
    const pending = newId('evt')
    script.set(pending, [500])
    await api('POST', '/events', { event: 'call.ended', event_id: pending, data: samplePayload('call.ended') })
    await waitFor('the first failing attempt', () => arrivals.some((a) => a.eventId === pending) ? true : null)
    running.child.kill('SIGINT')
    assert.equal(await running.exited, 0, running.output())
    assert.match(running.output(), /Session ended/)

    const ended = await waitFor('the pending delivery to end', async () => {
      const event = await api('GET', `/events/${pending}`)
      const delivery = (event.json as { deliveries: Array<{ status: string, last_error: string | null }> }).deliveries[0]
      return delivery?.status === 'failed' ? delivery : null
    })
    assert.equal(ended.last_error, 'cli session ended')
    // The ephemeral webhook is gone: a new event has nowhere to go.
    const after = await api('POST', '/events', { event: 'call.ended', data: samplePayload('call.ended') })
    assert.equal((after.json as { deliveries: number }).deliveries, 0)
  } finally {
    if (cli !== null && cli.child.exitCode === null) cli.child.kill('SIGKILL')
    service.child.kill('SIGTERM')
    await service.exited
    await new Promise<void>((resolve) => app.close(() => resolve()))
    await rm(dataDir, { recursive: true, force: true })
  }
})
