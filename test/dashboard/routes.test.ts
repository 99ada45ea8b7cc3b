import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { dashboardRoutes, listPublicFiles, DEFAULT_PUBLIC_DIR } from '../../src/dashboard/routes.js'

async function appWith (publicDir?: string) {
  const app = Fastify({ logger: false })
  await app.register(dashboardRoutes, publicDir === undefined ? {} : { publicDir })
  await app.ready()
  return app
}

test('serves index.html at / with a strict content security policy', async () => {
  const app = await appWith()
  try {
    const res = await app.inject({ method: 'GET', url: '/' })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^text\/html/)
    assert.match(res.body, /<script type="module" src="\/dashboard\/js\/main\.js">/)
    const csp = String(res.headers['content-security-policy'])
    assert.match(csp, /script-src 'self'/)
    assert.match(csp, /connect-src 'self'/)
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
  } finally {
    await app.close()
  }
})

test('serves the client modules and the stylesheet with their content types', async () => {
  const app = await appWith()
  try {
    const js = await app.inject({ method: 'GET', url: '/dashboard/js/views/delivery.js' })
    assert.equal(js.statusCode, 200)
    assert.match(String(js.headers['content-type']), /^text\/javascript/)
    assert.match(js.body, /export async function renderDelivery/)
    const css = await app.inject({ method: 'GET', url: '/dashboard/dashboard.css' })
    assert.equal(css.statusCode, 200)
    assert.match(String(css.headers['content-type']), /^text\/css/)
  } finally {
    await app.close()
  }
})

test('answers 404 for anything outside the listed files, however the path is spelled', async () => {
  const app = await appWith()
  try {
    for (const url of [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/js/..%2f..%2fpackage.json',
      '/dashboard/..%5c..%5cpackage.json',
      '/dashboard/%2Fetc%2Fpasswd',
      '/dashboard/',
      '/dashboard/nope.js',
      '/dashboard/js/main.js%00.css',
    ]) {
      const res = await app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 404, url)
      assert.doesNotMatch(res.body, /"name": "kejue-webhooks"|root:/, url)
    }
  } finally {
    await app.close()
  }
})

test('lists only servable files and skips dotfiles and unknown types', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-public-'))
  try {
    mkdirSync(join(dir, 'js'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html>')
    writeFileSync(join(dir, 'js', 'a.js'), '')
    writeFileSync(join(dir, '.env'), 'SECRET=1')
    writeFileSync(join(dir, 'notes.txt'), 'x')
    assert.deepEqual([...listPublicFiles(dir).keys()].sort(), ['index.html', 'js/a.js'])
    assert.ok(listPublicFiles(DEFAULT_PUBLIC_DIR).has('js/main.js'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('refuses to start without an index.html', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-empty-'))
  try {
    await assert.rejects(appWith(dir), /no index\.html/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
