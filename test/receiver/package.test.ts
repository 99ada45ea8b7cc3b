import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { captureDelivery, DELIVERY_SECRET } from '../helpers/real-delivery.js'

// @kejue/webhooks-receiver as a user gets it (docs/receiving.md): `npm pack`, then install the
// tarball into an empty project with no network, and use it from ESM, CommonJS and TypeScript.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const PACKAGE_DIR = join(ROOT, 'packages/receiver')
const BUILT = existsSync(join(PACKAGE_DIR, 'dist/esm/index.js')) && existsSync(join(PACKAGE_DIR, 'dist/cjs/index.js'))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

function run (command: string, args: string[], cwd: string, input?: string): { stdout: string, ms: number } {
  const started = performance.now()
  // npm_config_* from an enclosing `npm test` would point npm at this repo; start clean.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')))
  const result = spawnSync(command, args, { cwd, input, encoding: 'utf8', timeout: 120_000, env })
  const ms = performance.now() - started
  if (result.error) throw result.error
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`)
  return { stdout: result.stdout, ms }
}

test('the packed receiver installs offline into an empty project, alone, and verifies a real delivery from import, require and TypeScript', {
  skip: BUILT ? false : 'packages/receiver is not built (npm run build)',
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-receiver-pack-'))
  try {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], PACKAGE_DIR).stdout) as Array<{
      filename: string, files: Array<{ path: string }>
    }>
    const tarball = packed[0]
    assert.ok(tarball !== undefined)
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as Record<string, unknown>
    assert.equal(manifest.dependencies, undefined, 'no runtime dependencies')
    assert.equal(manifest.peerDependencies, undefined)
    for (const file of tarball.files) assert.match(file.path, /^(package\.json|README\.md|dist\/(esm|cjs)\/[a-z-]+\.(js|d\.ts)|dist\/cjs\/package\.json)$/, file.path)

    const app = join(dir, 'app')
    mkdirSync(app)
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
    const install = run('npm', ['install', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', join(dir, tarball.filename)], app)
    // The bar is "seconds" (under 10 s on a quiet machine); the limit allows for a loaded one.
    assert.ok(install.ms < 30_000, `npm install took ${Math.round(install.ms)} ms`)
    process.stdout.write(`# npm install of the receiver tarball: ${Math.round(install.ms)} ms\n`)
    assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((n) => n !== '.package-lock.json'), ['@kejue'])
    assert.deepEqual(readdirSync(join(app, 'node_modules/@kejue')), ['webhooks-receiver'])

    const delivery = await captureDelivery()
    const input = JSON.stringify({ body: delivery.body.toString('base64'), headers: delivery.headers, secret: DELIVERY_SECRET })
    const check = `
      const { body, headers, secret } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'))
      const raw = Buffer.from(body, 'base64')
      const event = verify(raw, headers, { secret })
      let forged = null
      try { verify(raw, { ...headers, 'x-kejue-signature': 'sha256=' + '0'.repeat(64) }, { secret }) } catch (err) { forged = [err.code, err.status, err instanceof WebhookVerificationError] }
      let unset = null
      try { verify(raw, headers, { secret: process.env.NOT_SET_ANYWHERE }) } catch (err) { unset = [err.code, err.status] }
      console.log(JSON.stringify({ event: event.event, eventId: event.event_id, forged, unset }))`
    const expected = { event: 'call.ended', eventId: headers(delivery, 'x-kejue-event-id'), forged: ['SIGNATURE_MISMATCH', 400, true], unset: ['MISSING_SECRET', 500] }
    writeFileSync(join(app, 'check.cjs'), `const { verify, WebhookVerificationError } = require('@kejue/webhooks-receiver')\n${check}`)
    writeFileSync(join(app, 'check.mjs'), `import { createRequire } from 'node:module'\nimport { verify, WebhookVerificationError } from '@kejue/webhooks-receiver'\nconst require = createRequire(import.meta.url)\n${check}`)
    assert.deepEqual(JSON.parse(run(process.execPath, ['check.cjs'], app, input).stdout), expected)
    assert.deepEqual(JSON.parse(run(process.execPath, ['check.mjs'], app, input).stdout), expected)

    // The .d.ts stand alone: no @types/node, no TypeBox in the project, and the event narrows.
    // Under NodeNext, typed.cts takes the `require` types and typed.mts the `import` ones.
    const typed = [
      "import { verify, type KejueEvent } from '@kejue/webhooks-receiver'",
      'declare const raw: Uint8Array',
      'const event: KejueEvent = verify(raw, { get: () => null }, { secret: \'whsec_x\' })',
      "if (event.event === 'call.ended') { const status: 'completed' | 'no_answer' | 'busy' | 'failed' | 'voicemail' = event.data.status; void status }",
      'export {}',
      '',
    ].join('\n')
    writeFileSync(join(app, 'typed.cts'), typed)
    writeFileSync(join(app, 'typed.mts'), typed)
    for (const [module, resolution] of [['NodeNext', 'NodeNext'], ['ESNext', 'Bundler']] as const) {
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ['es2022'], module, moduleResolution: resolution },
        files: module === 'NodeNext' ? ['typed.cts', 'typed.mts'] : ['typed.mts'],
      }))
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], app)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

function headers (delivery: { headers: Record<string, string> }, name: string): string | undefined {
  return delivery.headers[name]
}

test('kejue-webhooks/receiver (the service package) keeps exporting the same receiver', {
  skip: BUILT && existsSync(join(ROOT, 'dist/receiver/index.js')) ? false : 'not built (npm run build)',
}, async () => {
  // Specifiers in variables: resolved by Node at run time (a self-reference through package.json
  // "exports", and the built package), not by the type checker.
  const main: string = 'kejue-webhooks/receiver'
  const standalone: string = join(PACKAGE_DIR, 'dist/esm/index.js')
  const fromMain = await import(main) as Record<string, unknown>
  const fromPackage = await import(standalone) as Record<string, unknown>
  assert.deepEqual(Object.keys(fromMain).sort(), Object.keys(fromPackage).sort())
  assert.equal(typeof fromMain.verify, 'function')
  assert.deepEqual(fromMain.VERIFICATION_ERROR_CODES, fromPackage.VERIFICATION_ERROR_CODES)
})
