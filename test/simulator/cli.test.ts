import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { request } from 'undici'
import { createEnvelope, serializeEnvelope } from '../../src/events/envelope.js'
import { samplePayload } from '../../src/events/samples.js'
import { signHeaders } from '../../src/signing/signer.js'
import { events, startHarness, waitFor } from './helpers.js'

const MAIN = 'src/cli/main.ts'

function run (args: string[], env: Record<string, string> = {}): { child: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exit }
}

test('`npm run demo` runs the whole loop with nothing else running and exits 0 in under 60 s', { timeout: 180_000 }, async () => {
  // Exactly what CI and a newcomer run: the built CLI through npm (`npm test` builds first).
  assert.ok(existsSync('dist/cli/main.js'), 'dist/cli/main.js is missing: run `npm run build` first')
  const started = Date.now()
  const child = spawn('npm', ['run', '--silent', 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const demo = { stdout: () => out, stderr: () => err }
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  const elapsedMs = Date.now() - started
  assert.equal(code, 0, demo.stdout() + demo.stderr())
  assert.ok(elapsedMs < 60_000, `took ${elapsedMs} ms`)
  assert.match(out, /Campaign camp_\S+: completed in/)
  assert.match(out, /campaign\.ended\s+1/)
  assert.match(out, /✔ every delivery verified/)
  assert.match(out, /\] 50\/50 contacts/)
})

test('`listen` rejects a delivery with a wrong signature and prints why', { timeout: 120_000 }, async () => {
  const listen = run(['listen', '--port', '0', '--secret', 'whsec_cli_listen'])
  try {
    await waitFor('the listener to start', () => /Listening on http:\/\/127\.0\.0\.1:\d+\//.test(listen.stderr()), 20_000)
    const url = /Listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(listen.stderr())?.[1] ?? ''
    const body = serializeEnvelope(createEnvelope({ event: 'call.ended', workspaceId: 'ws_1', data: samplePayload('call.ended') }))
    const send = async (secret: string) => {
      const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signHeaders('hmac_sha256', secret, body, Date.now()) } })
      await res.body.text()
      return res.statusCode
    }
    assert.equal(await send('whsec_wrong_secret'), 401)
    assert.equal(await send('whsec_cli_listen'), 200)
    await waitFor('two lines', () => listen.stdout().trim().split('\n').length >= 2, 5_000)
    const [rejected, accepted] = listen.stdout().trim().split('\n')
    assert.match(rejected ?? '', /call\.ended .*✘ NOT verified: The webhook signature does not match \(SIGNATURE_MISMATCH\)/)
    assert.match(accepted ?? '', /call\.ended .*✔ verified/)
  } finally {
    listen.child.kill('SIGTERM')
  }
  assert.equal(await listen.exit, 0)
  assert.match(listen.stderr(), /2 deliveries received, 1 verified, 1 not verified/)
})

test('`trigger` sends a sample event through the running service to every subscribed webhook', { timeout: 120_000 }, async () => {
  const h = await startHarness({ speed: 1 })
  try {
    const { listener, url } = await h.receiver('whsec_trigger')
    await h.api('POST', '/webhooks', { url, events: ['campaign.paused'], secret: 'whsec_trigger' })
    const trigger = run(['trigger', 'campaign.paused', '--workspace-key', h.service.workspaceKey, '--url', h.service.url])
    assert.equal(await trigger.exit, 0, trigger.stderr())
    assert.match(trigger.stdout(), /Triggered campaign\.paused evt_\S+ → 1 delivery\n/)
    await waitFor('the delivery', () => listener.received.length > 0)
    const got = events(listener.received)
    assert.equal(got[0]?.event, 'campaign.paused')
    assert.equal(got[0]?.data.status, 'paused')

    const unknown = run(['trigger', 'call.exploded', '--workspace-key', h.service.workspaceKey, '--url', h.service.url])
    const badKey = run(['trigger', 'call.ended', '--workspace-key', 'kw_not_a_key', '--url', h.service.url])
    assert.equal(await unknown.exit, 2)
    assert.match(unknown.stderr(), /unknown event type "call\.exploded"/)
    assert.equal(await badKey.exit, 1)
    assert.match(badKey.stderr(), /answered 401/)
  } finally {
    await h.close()
  }
})
