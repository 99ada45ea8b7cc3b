import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { createListener } from '../../src/simulator/listener.js'
import { events, waitFor } from './helpers.js'

test('`serve --simulate` dials a call created with POST /persona-calls; SIGTERM stops it with exit 0', { timeout: 150_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kejue-serve-sim-'))
  const listener = createListener({ port: 0, secret: 'whsec_serve_simulate' }, { write: () => {} })
  const { url: receiverUrl } = await listener.start()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--simulate', '--port', '0', '--simulate-speed', '5000', '--simulate-outcomes', 'completed=1,no_answer=0,busy=0,failed=0,voicemail=0'], {
    env: { ...process.env, KEJUE_DATA_DIR: dir, KEJUE_ALLOW_PRIVATE_NETWORKS: 'true', KEJUE_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.resume()
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  try {
    await waitFor('the banner', () => /Workspace API key:\s+\S+/.test(out) && /Simulator on/.test(out), 30_000)
    const base = /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? ''
    const key = /Workspace API key:\s+(\S+)/.exec(out)?.[1] ?? ''
    const call = async (path: string, body: unknown) => {
      const res = await request(`${base}/api/v1${path}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      return { status: res.statusCode, body: await res.body.json() as Record<string, unknown> }
    }
    assert.equal((await call('/webhooks', { url: receiverUrl, events: ['*'], secret: 'whsec_serve_simulate' })).status, 201)
    const created = await call('/persona-calls', { persona_id: 'per_abc', contact_id: 'ct_1' })
    assert.equal(created.status, 201)
    await waitFor('call.analyzed', () => events(listener.received).some((e) => e.event === 'call.analyzed'), 20_000)
    assert.deepEqual(events(listener.received).map((e) => e.event), ['call.started', 'call.ended', 'call.analyzed'])
    assert.ok(events(listener.received).every((e) => e.data.job_id === created.body.job_id || (e.data.call as { id?: string } | undefined)?.id === created.body.job_id))
  } finally {
    child.kill('SIGTERM')
    assert.equal(await exit, 0)
    await listener.close()
    await rm(dir, { recursive: true, force: true })
  }
})
