import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DELIVERY_SECRET, startDeliverer } from '../helpers/real-delivery.js'
import type { Deliverer } from '../helpers/real-delivery.js'

// examples/python/receiver.py (standard library only) against real deliveries from the engine.

const EXAMPLE_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'examples/python')

interface Running { url: string, child: ChildProcess, output: () => string }

/** Starts the receiver on a free port; `args` replace the plain `receiver.py` (to patch it). */
async function startPython (secret: string | undefined, args: string[] = ['receiver.py']): Promise<Running> {
  const env: Record<string, string | undefined> = { ...process.env, PORT: '0', KEJUE_WEBHOOK_SECRET: secret, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }
  if (secret === undefined) delete env.KEJUE_WEBHOOK_SECRET
  const child = spawn('python3', args, { cwd: EXAMPLE_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver.py did not listen within 30 s:\n${output}`)), 30_000)
    const check = (): void => {
      const match = /Listening on (http:\/\/\S+)/.exec(output)
      if (match === null) return
      clearTimeout(timer)
      resolveUrl(match[1] ?? '')
    }
    child.stdout?.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`receiver.py exited ${code}:\n${output}`))
    })
  })
  return { url, child, output: () => output }
}

async function stop (running: Running): Promise<void> {
  const { child } = running
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit))
  child.kill('SIGTERM')
  await exited
}

let deliverer: Deliverer
before(async () => { deliverer = await startDeliverer() })
after(async () => { await deliverer.close() })

test('the Python receiver verifies a real delivery (204, one line printed) and answers a forged one 400, not retried', { timeout: 60_000 }, async () => {
  const python = await startPython(DELIVERY_SECRET)
  try {
    for (const event of ['call.ended', 'campaign.ended'] as const) {
      const genuine = await deliverer.deliver(python.url, { event, status: 'succeeded' })
      assert.equal(genuine.lastStatusCode, 204)
      assert.match(python.output(), new RegExp(`${event.replace('.', '\\.')} +${genuine.eventId}  delivery ${genuine.id}  attempt 1`))
    }
    const forged = await deliverer.deliver(python.url, { status: 'failed', secret: 'whsec_someone_else', maxRetries: 2 })
    assert.equal(forged.lastStatusCode, 400)
    assert.equal(forged.attemptCount, 1)
    assert.ok(!python.output().includes(forged.eventId))
    const unsigned = await fetch(python.url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    assert.equal(unsigned.status, 400)
    assert.deepEqual(await unsigned.json(), { code: 'MISSING_HEADER' })
  } finally {
    await stop(python)
  }
})

test('the Python receiver answers 500 when it has no secret or its handler fails, so the delivery is retried', { timeout: 60_000 }, async () => {
  const unconfigured = await startPython(undefined)
  try {
    const delivery = await deliverer.deliver(unconfigured.url, { status: 'failed', maxRetries: 1 })
    assert.equal(delivery.lastStatusCode, 500)
    assert.equal(delivery.attemptCount, 2)
  } finally {
    await stop(unconfigured)
  }
  // The file as it is, with handle_event replaced by one that fails like a database outage.
  const patch = 'import receiver\ndef outage(event, headers): raise RuntimeError("database is down")\nreceiver.handle_event = outage\nreceiver.main()'
  const failing = await startPython(DELIVERY_SECRET, ['-c', patch])
  try {
    const delivery = await deliverer.deliver(failing.url, { status: 'failed', maxRetries: 1 })
    assert.equal(delivery.lastStatusCode, 500)
    assert.equal(delivery.attemptCount, 2)
    assert.match(failing.output(), /handle_event failed: RuntimeError\('database is down'\)/)
  } finally {
    await stop(failing)
  }
})
