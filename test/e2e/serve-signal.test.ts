/**
 * `serve` stops cleanly (exit 0) on a SIGTERM sent the moment it says it is up: its handlers are
 * installed before the banner. They used to come after the first start's key bookkeeping, so a
 * signal sent at once met Node's default and killed the process (seen as a rare failure of
 * encryption-key.test.ts). Needs `npm run build`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAIN } from '../helpers/served.js'

/** Starts `serve` on `dataDir`, sends SIGTERM as soon as stdout matches `up`: how it ended. */
async function signalledWhenUp (dataDir: string, up: RegExp): Promise<number | string | null> {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, KEJUE_DATA_DIR: dataDir, KEJUE_DATABASE_URL: '', DATABASE_URL: '', KEJUE_PORT: '0', KEJUE_LOG_LEVEL: 'warn', KEJUE_ADMIN_KEY: '' },
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    if (up.test(out)) child.kill('SIGTERM')
  })
  return await new Promise((resolve) => child.on('exit', (code, signal) => { resolve(code ?? signal) }))
}

test('serve exits 0 on a SIGTERM sent as soon as it is up, on its first start and later ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-serve-signal-'))
  try {
    assert.equal(await signalledWhenUp(dir, /Workspace API key: +kw_\S+/), 0, 'first start, at the banner with the keys')
    assert.equal(await signalledWhenUp(dir, /listening on/), 0, 'a later start')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
