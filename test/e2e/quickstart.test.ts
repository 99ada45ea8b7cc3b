import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

test('examples/quickstart.sh (the README quickstart) runs to the end', { timeout: 150_000 }, async () => {
  assert.ok(existsSync(`${ROOT}dist/cli/main.js`), 'dist is missing: run `npm run build` first')
  const child = spawn('bash', ['examples/quickstart.sh'], { cwd: ROOT, env: { ...process.env, KEJUE_ADMIN_KEY: '', KEJUE_DATABASE_URL: '', DATABASE_URL: '' } })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  assert.equal(code, 0, output)
  assert.match(output, /"status":"succeeded"/)
  assert.match(output, /receiver got: call\.ended sha256=[0-9a-f]{64} \{"event":"call\.ended"/)
})
