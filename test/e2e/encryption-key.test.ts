/**
 * A real `serve` process refuses to start with a key that cannot decrypt the stored secrets
 * (docs/storage.md, "Encryption at rest"), and starts again with the right one. Needs `npm run build`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAIN } from '../helpers/served.js'
import { waitFor } from '../helpers/wait-for.js'

interface Run { out: () => string, err: () => string, exited: Promise<number | string | null>, stop: () => void }

function serve (dataDir: string, encryptionKey: string): Run {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, KEJUE_DATA_DIR: dataDir, KEJUE_DATABASE_URL: '', DATABASE_URL: '', KEJUE_PORT: '0', KEJUE_LOG_LEVEL: 'warn', KEJUE_ADMIN_KEY: '', KEJUE_ENCRYPTION_KEY: encryptionKey },
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  // A signal instead of a code when it was killed (shows which one if an assertion on it fails).
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)))
  return { out: () => out, err: () => err, exited, stop: () => { child.kill('SIGTERM') } }
}

test('serve refuses to start with a wrong encryption key, and starts with the right one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-serve-key-'))
  const right = randomBytes(32).toString('hex')
  try {
    const first = serve(dir, right)
    const banner = await waitFor('the banner', () => /Workspace API key: +(kw_\S+)/.test(first.out()) ? first.out() : null, 30_000)
    const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1] ?? ''
    const apiKey = /Workspace API key: +(kw_\S+)/.exec(banner)?.[1] ?? ''
    const created = await fetch(`${url}/api/v1/webhooks`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://93.184.216.34/hook', events: ['call.ended'] }),
    })
    assert.equal(created.status, 201)
    first.stop()
    assert.equal(await first.exited, 0)

    const wrong = serve(dir, randomBytes(32).toString('base64'))
    assert.equal(await wrong.exited, 1, wrong.out())
    assert.match(wrong.err(), /encryption key cannot decrypt/)
    assert.equal(wrong.err().includes(right), false)
    assert.equal(/listening on/.test(wrong.out()), false)

    const again = serve(dir, right)
    await waitFor('listening again', () => /listening on/.test(again.out()) ? true : again.err() !== '' && /cannot/.test(again.err()) ? 'failed' : null, 30_000)
    assert.match(again.out(), /listening on/)
    again.stop()
    assert.equal(await again.exited, 0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
