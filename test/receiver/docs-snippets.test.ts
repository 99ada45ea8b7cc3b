import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { VERIFICATION_ERROR_CODES } from '../../src/receiver/index.js'
import { serveFetch } from '../helpers/fetch-server.js'
import type { FetchHandler } from '../helpers/fetch-server.js'
import { DELIVERY_SECRET, startDeliverer } from '../helpers/real-delivery.js'
import type { Deliverer } from '../helpers/real-delivery.js'

// Every receiver snippet in docs/receiving.md, extracted from the markdown and run byte for byte
// (each under its `<!-- snippet: name file -->` marker) against real deliveries from the engine:
// a genuine one is handled and answered 2xx, a forged one is answered 400 and not retried, and
// the receiver's own failures (handleEvent throws; no secret configured) are answered 500 and
// retried. Express and Fastify run as their own processes, as pasted; Hono's exported app and the
// Next.js route's exported POST are served through a plain Fetch bridge (no `next build`).

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const DOCS = readFileSync(join(ROOT, 'docs/receiving.md'), 'utf8')
const PACKAGE_DIR = join(ROOT, 'packages/receiver')
const BUILT = existsSync(join(PACKAGE_DIR, 'dist/esm/index.js'))

interface Snippet { name: string, file: string, code: string }

function extractSnippets (markdown: string): Map<string, Snippet> {
  const found = new Map<string, Snippet>()
  const pattern = /<!-- snippet: (\S+) (\S+) -->\n```js\n([\s\S]*?)\n```/g
  for (const match of markdown.matchAll(pattern)) {
    const [, name = '', file = '', code = ''] = match
    assert.ok(!found.has(name), `snippet ${name} appears twice`)
    found.set(name, { name, file, code: `${code}\n` })
  }
  return found
}

const SNIPPETS = extractSnippets(DOCS)

// The user's own module that every snippet imports: it records each event it handles, and fails
// like a database outage for events whose metadata asks for it.
const HANDLE_EVENT = `import { appendFileSync } from 'node:fs'
export async function handleEvent (event) {
  if (event.metadata.outage === true) throw new Error('the database is down')
  appendFileSync(new URL('../handled.log', import.meta.url), event.event_id + '\\n')
}
`

// Preloaded into the Express and Fastify processes only to learn the port they chose for PORT=0.
const REPORT_PORT = `import net from 'node:net'
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  this.once('listening', () => {
    const a = this.address()
    if (a !== null && typeof a === 'object') process.stdout.write('LISTENING ' + a.address + ' ' + a.port + '\\n')
  })
  return listen.apply(this, args)
}
`

let dir = ''
let deliverer: Deliverer

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kejue-snippets-'))
  mkdirSync(join(dir, 'node_modules/@kejue'), { recursive: true })
  for (const name of ['express', 'fastify', 'hono']) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name))
  symlinkSync(PACKAGE_DIR, join(dir, 'node_modules/@kejue/webhooks-receiver'))
  // A user's project: ESM, so handle-event.js is a module like the snippets.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'receiver-app', private: true, type: 'module' }))
  writeFileSync(join(dir, 'report-port.mjs'), REPORT_PORT)
  writeFileSync(join(dir, 'handled.log'), '')
  deliverer = await startDeliverer()
})

after(async () => {
  await deliverer.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Writes the snippet, byte for byte, beside the user's handle-event.js; returns its path. */
function place (name: string): string {
  const snippet = SNIPPETS.get(name)
  assert.ok(snippet !== undefined, `docs/receiving.md has no snippet ${name}`)
  const folder = join(dir, name)
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, 'handle-event.js'), HANDLE_EVENT)
  writeFileSync(join(folder, snippet.file), snippet.code)
  return join(folder, snippet.file)
}

function handled (): string[] {
  return readFileSync(join(dir, 'handled.log'), 'utf8').split('\n').filter((line) => line !== '')
}

/** The four deliveries; `ownFailureWithoutSecret` runs with no KEJUE_WEBHOOK_SECRET set. */
async function exerciseConfigured (url: string): Promise<void> {
  const genuine = await deliverer.deliver(url, { status: 'succeeded', maxRetries: 2 })
  assert.equal(genuine.lastStatusCode, 204)
  assert.equal(genuine.attemptCount, 1)
  assert.ok(handled().includes(genuine.eventId), 'handleEvent got the event')

  const forged = await deliverer.deliver(url, { status: 'failed', secret: 'whsec_someone_else', maxRetries: 2 })
  assert.equal(forged.lastStatusCode, 400)
  assert.equal(forged.attemptCount, 1, 'a 400 is permanent: not retried')
  assert.ok(!handled().includes(forged.eventId))

  const outage = await deliverer.deliver(url, { status: 'failed', metadata: { outage: true }, maxRetries: 1 })
  assert.equal(outage.lastStatusCode, 500)
  assert.equal(outage.attemptCount, 2, 'a 500 from the receiver\'s own code is retried')
}

async function exerciseWithoutSecret (url: string): Promise<void> {
  const unconfigured = await deliverer.deliver(url, { status: 'failed', maxRetries: 1 })
  assert.equal(unconfigured.lastStatusCode, 500, 'no secret is the receiver\'s fault: 500, retried')
  assert.equal(unconfigured.attemptCount, 2)
  assert.ok(!handled().includes(unconfigured.eventId))
}

/** Runs a server snippet as `node <file>` with PORT=0; resolves with its URL once it listens. */
async function startProcess (file: string, secret: string | undefined): Promise<{ url: string, child: ChildProcess }> {
  const env: Record<string, string | undefined> = { ...process.env, PORT: '0', KEJUE_WEBHOOK_SECRET: secret }
  if (secret === undefined) delete env.KEJUE_WEBHOOK_SECRET
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(dir, 'report-port.mjs')).href, file], {
    cwd: dirname(file), env, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not listen within 30 s:\n${output}`)), 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /LISTENING (\S+) (\d+)/.exec(output)
      if (match === null) return
      clearTimeout(timer)
      const host = (match[1] ?? '').includes(':') ? `[${match[1]}]` : match[1]
      resolveUrl(`http://${host}:${match[2]}/webhooks/kejue`)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited ${code}:\n${output}`))
    })
  })
  return { url, child }
}

async function stopProcess (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit))
  child.kill('SIGTERM')
  await exited
}

test('docs/receiving.md has the four receiver snippets and lists every error code', () => {
  assert.deepEqual([...SNIPPETS.keys()].sort(), ['express', 'fastify', 'hono', 'nextjs'])
  for (const code of VERIFICATION_ERROR_CODES) assert.match(DOCS, new RegExp(`\\| \`${code}\` \\|`), code)
})

const skip = BUILT ? false : 'packages/receiver is not built (npm run build)'

for (const name of ['express', 'fastify']) {
  test(`the ${name} snippet, run as pasted, answers real deliveries 204, forged ones 400 and its own failures 500`, { skip, timeout: 120_000 }, async () => {
    const file = place(name)
    const configured = await startProcess(file, DELIVERY_SECRET)
    try {
      await exerciseConfigured(configured.url)
    } finally {
      await stopProcess(configured.child)
    }
    const unconfigured = await startProcess(file, undefined)
    try {
      await exerciseWithoutSecret(unconfigured.url)
    } finally {
      await stopProcess(unconfigured.child)
    }
  })
}

/** Imports a Fetch-style snippet and serves `pick(module)`; the secret is set per phase. */
async function exerciseFetchSnippet (name: string, pick: (module: Record<string, unknown>) => FetchHandler): Promise<void> {
  const module = await import(pathToFileURL(place(name)).href) as Record<string, unknown>
  const server = await serveFetch(pick(module))
  const previous = process.env.KEJUE_WEBHOOK_SECRET
  try {
    process.env.KEJUE_WEBHOOK_SECRET = DELIVERY_SECRET
    await exerciseConfigured(`${server.url}/webhooks/kejue`)
    delete process.env.KEJUE_WEBHOOK_SECRET
    await exerciseWithoutSecret(`${server.url}/webhooks/kejue`)
  } finally {
    if (previous === undefined) delete process.env.KEJUE_WEBHOOK_SECRET
    else process.env.KEJUE_WEBHOOK_SECRET = previous
    await server.close()
  }
}

test('the Hono snippet\'s exported app answers real deliveries 204, forged ones 400 and its own failures 500', { skip, timeout: 120_000 }, async () => {
  await exerciseFetchSnippet('hono', (module) => {
    const app = module.default as { fetch: FetchHandler }
    return (request) => app.fetch(request)
  })
})

test('the Next.js route handler\'s exported POST answers real deliveries 204, forged ones 400 and its own failures 500', { skip, timeout: 120_000 }, async () => {
  await exerciseFetchSnippet('nextjs', (module) => module.POST as FetchHandler)
})
