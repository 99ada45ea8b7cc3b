/**
 * The built service as a separate process (`node dist/cli/main.js serve`), a receiver that
 * records event ids, and the few API calls the fault tests make. Needs `npm run build` first.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait-for.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const MAIN = join(ROOT, 'dist', 'cli', 'main.js')

export const CALL_ENDED = {
  job_id: 'job_outage', contact_id: 'ct_1', status: 'completed', ended_reason: 'agent_hangup', duration_seconds: 30,
  transcript: 'Agent: Hello', recording_url: 'https://recordings.kejue.co/x',
  retry: { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 },
}

export { waitFor }

export interface Service {
  child: ChildProcessWithoutNullStreams
  url: string
  apiKey: string
  stderr: () => string
  exited: Promise<number | null>
}

/**
 * Starts `serve` (the SQLite store in `dataDir` unless `databaseUrl` is given) and reads its key
 * from the banner. A restart on the same store prints no key: pass the one the first start gave.
 */
export async function startService (dataDir: string, databaseUrl = '', options: { env?: Record<string, string>, apiKey?: string } = {}): Promise<Service> {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, KEJUE_DATA_DIR: dataDir, KEJUE_DATABASE_URL: databaseUrl, DATABASE_URL: '', KEJUE_PORT: '0', KEJUE_ALLOW_PRIVATE_NETWORKS: 'true', KEJUE_LOG_LEVEL: 'warn', KEJUE_ADMIN_KEY: '', ...options.env },
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const ready = options.apiKey === undefined ? /Workspace API key: +(kw_\S+)/ : /listening on http/
  const banner = await waitFor('the banner', () => child.exitCode !== null ? `exited: ${err}` : ready.test(out) ? out : null, 30_000)
  const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1]
  const apiKey = options.apiKey ?? /Workspace API key: +(kw_\S+)/.exec(banner)?.[1]
  assert.ok(url !== undefined && apiKey !== undefined, banner)
  return { child, url, apiKey, stderr: () => err, exited }
}

export async function stopService (service: Service): Promise<void> {
  if (service.child.exitCode !== null) return
  service.child.kill('SIGTERM')
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 20_000)
  await service.exited
  clearTimeout(timer)
}

/** A receiver that records every event id it gets; `answer` may refuse an attempt. */
export async function startReceiver (answer: (eventId: string, attempt: number) => number = () => 200) {
  const received = new Map<string, number>()
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const eventId = String(req.headers['x-kejue-event-id'])
      received.set(eventId, (received.get(eventId) ?? 0) + 1)
      res.writeHead(answer(eventId, Number(req.headers['x-kejue-attempt']))).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: async () => { await new Promise((resolve) => server.close(resolve)) },
  }
}

export interface PostOutcome { status: number, eventId?: string, code?: string, body: string }

export async function postEvent (service: Service, eventId: string): Promise<PostOutcome> {
  // A hang is a failure: the service must answer well within this.
  const res = await fetch(`${service.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'x-api-key': service.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ event: 'call.ended', event_id: eventId, data: CALL_ENDED }),
    signal: AbortSignal.timeout(30_000),
  })
  const body = await res.text()
  const json = JSON.parse(body) as { event_id?: string, code?: string, error?: unknown, details?: unknown }
  if (res.status === 503) {
    assert.equal(res.headers.get('retry-after'), '1')
    assert.equal(typeof json.error, 'string', body)
    assert.deepEqual(json.details, {}, body)
  }
  return { status: res.status, eventId: json.event_id, code: json.code, body }
}

export async function createWebhook (service: Service, url: string): Promise<void> {
  const res = await fetch(`${service.url}/api/v1/webhooks`, {
    method: 'POST',
    headers: { 'x-api-key': service.apiKey, 'content-type': 'application/json' },
    // Many quick retries: a refused attempt is always retried, however long the outage takes.
    body: JSON.stringify({ url, events: ['call.ended'], max_retries: 10, backoff_ms: 200 }),
  })
  assert.equal(res.status, 201, await res.text())
}

export async function health (service: Service): Promise<number> {
  return (await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(30_000) })).status
}

