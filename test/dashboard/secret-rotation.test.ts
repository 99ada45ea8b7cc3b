/**
 * The dashboard's "Signing secret" card in a real browser (Debian's Chromium via playwright-core):
 * no rotation at first, start one, the new secret is revealed once, and the page shows the
 * rotation in progress — also after a reload, which shows no secret.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import { buildApp } from '../../src/api/app.js'
import { makeApiKey } from '../../src/api/auth.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { createLogger } from '../../src/util/logger.js'

const CHROMIUM = '/usr/bin/chromium'

test('the dashboard starts a secret rotation, reveals the new secret once and shows the rotation in progress', {
  skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install chromium)`,
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-rotation-'))
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const cleanups: Array<() => Promise<unknown>> = [async () => store.close()]
  try {
    const now = new Date()
    await store.createWorkspace({ id: 'ws_rot', name: 'A', createdAt: now })
    const key = makeApiKey('ws_rot', now)
    await store.createApiKey(key.row)
    const app = await buildApp({ store, config: { allowPrivateNetworks: true, bodyLimitBytes: 1024 * 1024 }, logger: createLogger({ level: 'silent' }) })
    cleanups.unshift(async () => app.close())
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const created = await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { 'x-api-key': key.token, 'content-type': 'application/json' }, payload: JSON.stringify({ url: 'https://93.184.216.34/hook', events: ['call.ended'], secret: 'whsec_dashboard_old' }) })
    const id = created.json<{ id: string }>().id

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    cleanups.unshift(async () => browser.close())
    const page = await (await browser.newContext()).newPage()
    page.setDefaultTimeout(20_000)
    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    const requestedUrls: string[] = []
    page.on('request', (request) => requestedUrls.push(request.url()))

    await page.goto(`${base}/`)
    await page.fill('#api-key', key.token)
    await page.click('button[type=submit]')
    await page.goto(`${base}/#/webhooks/${id}`)
    await page.getByTestId('rotate-secret').waitFor()
    assert.match(await page.getByTestId('rotation-state').innerText(), /No rotation in progress/)

    await page.getByTestId('rotate-secret').click()
    const secret = await page.getByTestId('new-secret').inputValue()
    assert.match(secret, /^whsec_\S{16,}/)
    assert.match(await page.getByTestId('rotation-state').innerText(), /Rotation in progress/)
    const stored = await store.getWebhook('ws_rot', id)
    assert.equal(stored?.secret, secret)
    assert.equal(stored?.previousSecret, 'whsec_dashboard_old')

    // Once only: a reload shows the rotation, not the secret.
    await page.reload()
    await page.getByTestId('rotate-secret').waitFor()
    assert.match(await page.getByTestId('rotation-state').innerText(), /Rotation in progress/)
    assert.equal(await page.getByTestId('new-secret').count(), 0)
    assert.equal(requestedUrls.some((u) => u.includes(secret) || u.includes(key.token)), false)
    assert.deepEqual(pageErrors, [])
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
})
