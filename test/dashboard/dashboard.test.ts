/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against the real
 * service: API + delivery engine + SQLite store on 127.0.0.1, and a scripted receiver.
 *
 * The story of the issue: sign in, create a webhook to a receiver that fails twice (503) then
 * succeeds, send a test event, watch the delivery's three attempts appear and succeed; break the
 * endpoint (400), press Retry, see the failed attempt. Along the way: a wrong key is refused
 * clearly, another workspace's delivery is "not found", and neither the key nor the secret ever
 * shows in a page URL, a request URL or the server log. Screenshots go to
 * test-output/screenshots/ (docs/dashboard.md lists them).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/api/app.js'
import { makeApiKey } from '../../src/api/auth.js'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { createLogger } from '../../src/util/logger.js'
import { startReceiver } from '../helpers/receiver.js'
import { launchChromium, SHOTS, skipWithoutChromium } from '../helpers/browser.js'

const WAIT_MS = 20_000

test('the dashboard shows a delivery retrying to success, retries it by hand, and keeps keys out of URLs and logs', {
  skip: skipWithoutChromium,
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-test-'))
  const logLines: string[] = []
  const logStream = new Writable({
    write (chunk, _encoding, done) {
      logLines.push(String(chunk))
      done()
    },
  })
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const cleanups: Array<() => Promise<unknown>> = [async () => store.close()]
  try {
    // Two workspaces, each with its own key.
    const now = new Date()
    await store.createWorkspace({ id: 'ws_dash_a', name: 'A', createdAt: now })
    await store.createWorkspace({ id: 'ws_dash_b', name: 'B', createdAt: now })
    const keyA = makeApiKey('ws_dash_a', now)
    const keyB = makeApiKey('ws_dash_b', now)
    await store.createApiKey(keyA.row)
    await store.createApiKey(keyB.row)

    const logger = createLogger({ level: 'debug', destination: logStream })
    const app = await buildApp({ store, config: { allowPrivateNetworks: true, bodyLimitBytes: 1024 * 1024 }, logger })
    cleanups.unshift(async () => app.close())
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

    const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/test' })
    const engine = createEngine({ owner: 'dashboard-test', idlePollMs: 200 }, { store, sender, logger })
    engine.start()
    cleanups.unshift(async () => engine.stop())

    // 503, 503, 200; then, once `broken`, a permanent 400.
    let broken = false
    const receiver = await startReceiver({
      respond: (request) => broken
        ? { status: 400, body: 'missing field: call.id' }
        : request.index < 2 ? { status: 503, body: 'down for maintenance' } : { status: 200, body: 'thanks' },
    })
    cleanups.unshift(async () => receiver.close())

    const browser = await launchChromium()
    cleanups.unshift(async () => browser.close())
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    // Every URL the page asks for, to check that no key or secret is ever in one.
    const requestedUrls: string[] = []
    page.on('request', (request) => requestedUrls.push(request.url()))
    const visitedUrls: string[] = []
    const shot = async (name: string): Promise<void> => {
      visitedUrls.push(page.url())
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
    }

    // — a wrong key is refused with a clear message —
    await page.goto(`${base}/`)
    await page.fill('#api-key', 'kw_not_a_real_key')
    await page.click('button[type=submit]')
    await page.getByText('That API key was not accepted').waitFor()
    await shot('01-sign-in-error')

    // — sign in —
    await page.fill('#api-key', keyA.token)
    await page.click('button[type=submit]')
    await page.getByTestId('webhooks-empty').waitFor()
    // The key is kept for this tab only: sessionStorage, not localStorage or a cookie.
    assert.equal(await page.evaluate('sessionStorage.length'), 1)
    assert.equal(await page.evaluate('localStorage.length + document.cookie.length'), 0)
    await shot('02-webhooks-empty')

    // — create a webhook; the secret is shown once —
    await page.getByRole('link', { name: 'Create your first webhook' }).click()
    await page.fill('#url', receiver.url)
    await page.fill('#name', 'CRM sync')
    await page.fill('#backoff_ms', '1000')
    await shot('03-webhook-form')
    await page.getByRole('button', { name: 'Create webhook' }).click()
    const secret = await page.getByTestId('secret').inputValue()
    assert.match(secret, /\S{16,}/)
    await shot('04-webhook-created')
    await page.getByTestId('go-to-webhook').click()
    await page.getByTestId('send-test').waitFor()
    await shot('05-webhook')

    // — send a test event and watch the delivery: pending, three attempts, succeeded —
    await page.getByTestId('send-test').click()
    await page.waitForURL(/#\/deliveries\/dlv_/)
    const deliveryId = decodeURIComponent(page.url().split('#/deliveries/')[1] ?? '')
    await page.locator('.summary [data-status=pending]').waitFor()
    await page.locator('[data-testid=attempt-row][data-attempt="1"]').waitFor()
    await page.locator('[data-testid=attempt-row][data-attempt="3"]').waitFor()
    await page.locator('.summary [data-status=succeeded]').waitFor()
    const outcomes = await page.getByTestId('attempt-outcome').allTextContents()
    assert.deepEqual(outcomes.map((t) => t.trim().slice(0, 3)), ['503', '503', '200'])
    await page.getByText('"event": "call.ended"').waitFor()
    await shot('06-delivery-succeeded')

    // The secret shown once is the one that signed the deliveries.
    const [firstRequest] = receiver.requests
    assert.ok(firstRequest)
    const timestamp = String(firstRequest.headers['x-kejue-timestamp'])
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(firstRequest.body).digest('hex')
    assert.equal(firstRequest.headers['x-kejue-signature'], `sha256=${expected}`)

    // — the endpoint now refuses: Retry adds a failed attempt —
    broken = true
    await page.getByTestId('retry').click()
    await page.locator('[data-testid=attempt-row][data-attempt="4"]').waitFor()
    await page.locator('.summary [data-status=failed]').waitFor()
    assert.match(await page.locator('[data-attempt="4"] [data-testid=attempt-outcome]').innerText(), /^400/)
    await page.getByText('missing field: call.id').waitFor()
    await shot('07-delivery-retried-failed')
    await page.setViewportSize({ width: 420, height: 800 })
    await shot('08-delivery-narrow')
    await page.setViewportSize({ width: 1280, height: 800 })

    // — lists and the event page —
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
    const row = page.locator('[data-testid=webhooks-table] tbody tr')
    await row.first().waitFor()
    // Its only finished delivery failed: "failing", not a green "enabled" (docs/dashboard.md).
    assert.match(await row.first().innerText(), /CRM sync[\s\S]*failing/)
    // The health strip: nothing pending, one delivery failed in the last hour.
    await page.waitForFunction(`document.querySelector('[data-testid=health-failed]')?.textContent.startsWith('1 failed') &&
      document.querySelector('[data-testid=health-pending]')?.textContent.startsWith('0 pending')`)
    await shot('09-webhooks')
    await page.getByRole('link', { name: 'Deliveries', exact: true }).click()
    await page.locator(`[data-testid=deliveries-table] tr[data-delivery-id="${deliveryId}"]`).waitFor()
    await shot('10-deliveries')
    await page.locator(`tr[data-delivery-id="${deliveryId}"] td:nth-child(2) a`).click()
    await page.locator(`[data-testid=event-deliveries] tr[data-delivery-id="${deliveryId}"]`).waitFor()
    await shot('11-event')

    // — another workspace's delivery is not found —
    const otherId = await deliveryOfWorkspace(base, keyB.token, receiver.url)
    await page.goto(`${base}/#/deliveries/${otherId}`)
    await page.getByText('Delivery not found').waitFor()
    await shot('12-not-found')

    // — nothing secret in any URL, page errors, or the server log —
    for (const url of [...visitedUrls, ...requestedUrls, page.url()]) {
      for (const value of [keyA.token, keyB.token, secret]) assert.ok(!url.includes(value), `a key or secret is in ${url}`)
    }
    assert.deepEqual(pageErrors, [])
    const log = logLines.join('')
    assert.match(log, /"statusCode":401/, 'the log captured the requests')
    for (const value of [keyA.token, keyB.token, secret]) assert.ok(!log.includes(value), 'a key or secret is in the server log')
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
})

/** Makes a delivery in another workspace through the API, with that workspace's key. */
async function deliveryOfWorkspace (base: string, key: string, url: string): Promise<string> {
  const headers = { 'x-api-key': key, 'content-type': 'application/json' }
  const created = await fetch(`${base}/api/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url, events: ['*'] }) })
  assert.equal(created.status, 201)
  const webhook = await created.json() as { id: string }
  const sent = await fetch(`${base}/api/v1/webhooks/${webhook.id}/test`, { method: 'POST', headers, body: '{}' })
  assert.ok(sent.ok)
  return (await sent.json() as { id: string }).id
}
