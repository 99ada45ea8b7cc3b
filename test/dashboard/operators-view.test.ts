/**
 * The operator's walk of docs/dashboard.md in a real browser (Debian's Chromium via
 * playwright-core) against the real service (API + delivery engine + SQLite on 127.0.0.1):
 * search a job_id → its deliveries → one failed attempt with the headers it was sent with → the
 * webhook's charts; then a portal link opens a read-only, persona-scoped view that cannot see
 * another persona; and no page scrolls sideways at 390 px. Screenshots of each page go to
 * test-output/screenshots/ (git-ignored).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { samplePayload } from '../../src/events/samples.js'
import { waitFor } from '../helpers/wait-for.js'
import { startReceiver } from '../helpers/receiver.js'
import { launchChromium, SHOTS, skipWithoutChromium } from '../helpers/browser.js'
import { startDashboardApp } from '../helpers/dashboard-app.js'

const WAIT_MS = 20_000
const FAILING_JOB = 'job_walk_failing'

/** True when the page is no wider than the window (no horizontal scroll). */
async function fitsWidth (page: Page): Promise<{ fits: boolean, scrollWidth: number, width: number }> {
  return await page.evaluate<{ fits: boolean, scrollWidth: number, width: number }>(`({
    fits: document.documentElement.scrollWidth <= window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    width: window.innerWidth,
  })`)
}

test('operators find a job\'s failed delivery, its headers and the webhook\'s charts, recover what failed; a portal link shows one persona, read-only', {
  skip: skipWithoutChromium,
  timeout: 180_000,
}, async () => {
  const dash = await startDashboardApp('operators-view-', 'ws_ops', 'Ops')
  const { store, logger, token, base, cleanups } = dash
  try {
    const api = async (method: string, path: string, body?: unknown): Promise<{ status: number, json: () => Promise<unknown> }> => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { 'x-api-key': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: res.status, json: async () => await res.json() as unknown }
    }

    const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/test' })
    const engine = createEngine({ owner: 'operators-test', idlePollMs: 200 }, { store, sender, logger })
    engine.start()
    cleanups.unshift(async () => engine.stop())

    // The failing job's deliveries get a 500; everything else a 200.
    const receiver = await startReceiver({
      respond: (request) => request.body.toString().includes(FAILING_JOB) ? { status: 500, body: 'crm is down' } : { status: 200, body: 'ok' },
    })
    cleanups.unshift(async () => receiver.close())

    const hooks: Record<string, string> = {}
    for (const [name, persona] of [['CRM sync', null], ['Persona A hook', 'per_a'], ['Persona B hook', 'per_b']] as const) {
      const res = await api('POST', '/webhooks', {
        url: receiver.url, events: ['*'], name, max_retries: 0,
        ...(persona === null ? {} : { scope_type: 'persona', persona_id: persona }),
      })
      assert.equal(res.status, 201)
      hooks[name] = (await res.json() as { id: string }).id
    }
    const calls: Array<[string, string]> = [['job_walk_ok_1', 'per_a'], [FAILING_JOB, 'per_a'], ['job_walk_ok_2', 'per_b'], ['job_walk_ok_3', 'per_b']]
    for (const [job, persona] of calls) {
      const res = await api('POST', '/events', { event: 'call.ended', data: { ...samplePayload('call.ended'), job_id: job, persona_id: persona } })
      assert.equal(res.status, 202)
    }
    // Every call reaches CRM sync and its persona's hook: eight deliveries, all settled.
    await waitFor('every delivery to settle', async () => {
      const stats = await api('GET', '/stats')
      return (await stats.json() as { pending: number }).pending === 0 && receiver.requests.length >= 8
    })

    const browser = await launchChromium()
    cleanups.unshift(async () => browser.close())
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    const shot = async (p: Page, name: string): Promise<void> => {
      await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
    }

    await page.goto(`${base}/`)
    await page.fill('#api-key', token)
    await page.click('button[type=submit]')
    await page.locator('[data-testid=webhooks-table]').waitFor()
    // CRM sync's one failed delivery of four is not "failing"; the health strip counts this workspace.
    await page.waitForFunction(`document.querySelector('[data-testid=health-failed]')?.textContent.startsWith('2 failed')`)
    await shot(page, 'ops-01-webhooks')

    // — search a job id: its deliveries only, the filter as a chip and in the URL —
    await page.getByRole('link', { name: 'Deliveries', exact: true }).click()
    await page.getByTestId('search').fill(FAILING_JOB)
    await page.getByTestId('search').press('Enter')
    await page.waitForURL(new RegExp(`job_id=${FAILING_JOB}`))
    await page.locator(`[data-testid=chip][data-filter=job_id]`).waitFor()
    const rows = page.locator('[data-testid=deliveries-table] tbody tr')
    await waitFor('the two deliveries of the job', async () => await rows.count() === 2)
    const names = (await page.getByTestId('webhook-name').allTextContents()).map((t) => t.trim()).sort()
    assert.deepEqual(names, ['CRM sync', 'Persona A hook'], 'webhook names, not ids')
    await shot(page, 'ops-02-search-job')
    // The same view from its URL (a shared link).
    const shared = page.url()
    await page.goto(`${base}/#/webhooks`)
    await page.goto(shared)
    await waitFor('the shared view', async () => await rows.count() === 2)

    // — one failed attempt, with status and the request headers it was sent with —
    await page.locator('[data-testid=deliveries-table] tbody tr').filter({ hasText: 'CRM sync' }).locator('td:last-child a').click()
    await page.locator('.summary [data-status=failed]').waitFor()
    await page.locator('[data-testid=attempt-row][data-attempt="1"] [data-status=failed]').waitFor()
    assert.match(await page.getByTestId('attempt-outcome').first().innerText(), /^500/)
    await page.locator('[data-testid=request-headers] summary').first().click()
    const headers = await page.getByTestId('request-headers').first().innerText()
    assert.match(headers, /X-Kejue-Attempt\s+1/)
    assert.match(headers, /X-Kejue-Signature\s+sha256=••••••/)
    assert.match(headers, /X-Kejue-Event-Id\s+evt_/)
    // Relative and absolute time with its zone.
    assert.match(await page.locator('.summary time').first().innerText(), /ago[\s\S]*\d{2}:\d{2}:\d{2}\.\d{3} \S+/)
    await shot(page, 'ops-03-failed-attempt')

    // — the webhook's charts —
    await page.getByTestId('webhook-name').click()
    await page.getByTestId('chart-volume').waitFor()
    assert.ok(await page.locator('[data-testid=chart-volume] rect.bar-bad').count() >= 1, 'a failed bar')
    assert.ok(await page.locator('[data-testid=chart-volume] rect.bar-ok').count() >= 1, 'a succeeded bar')
    await page.locator('[data-testid=chart-latency] polyline, [data-testid=chart-latency] circle').first().waitFor()
    await page.locator('[data-window="1h"]').click()
    await page.waitForURL(/window=1h/)
    await page.getByTestId('chart-success').waitFor()
    await shot(page, 'ops-04-webhook-charts')

    // — recover all failed: the dry run's count first, then the run; the receiver gets it again —
    const before = receiver.requests.filter((r) => r.body.toString().includes(FAILING_JOB)).length
    await page.getByTestId('recover-check').click()
    assert.equal(await page.getByTestId('recover-count').innerText(), '1 failed delivery', 'CRM sync failed the one job')
    await shot(page, 'ops-05-recover-dry-run')
    await page.getByTestId('recover-run').click()
    await page.getByTestId('recover-result').getByText('1 delivery gets a fresh set of attempts.').waitFor()
    await waitFor('the recovered delivery to be sent again', () => receiver.requests.filter((r) => r.body.toString().includes(FAILING_JOB)).length > before)

    // — 390 px: no page scrolls sideways —
    await page.setViewportSize({ width: 390, height: 844 })
    for (const [name, hash] of [
      ['ops-06-narrow-webhooks', '#/webhooks'],
      ['ops-07-narrow-search', `#/deliveries?job_id=${FAILING_JOB}`],
      ['ops-08-narrow-webhook', `#/webhooks/${hooks['CRM sync'] ?? ''}`],
    ] as const) {
      await page.goto(`${base}/${hash}`)
      await page.locator('main h1').first().waitFor()
      await page.locator('.loading').first().waitFor({ state: 'detached' })
      const width = await fitsWidth(page)
      assert.ok(width.fits, `${name}: ${width.scrollWidth} px wide in a ${width.width} px window`)
      await shot(page, name)
    }
    await page.locator('[data-testid=deliveries-table] tbody tr td:last-child a').first().click()
    await page.locator('[data-testid=attempt-row]').first().waitFor()
    const deliveryWidth = await fitsWidth(page)
    assert.ok(deliveryWidth.fits, `delivery page: ${deliveryWidth.scrollWidth} px in ${deliveryWidth.width}`)
    await shot(page, 'ops-09-narrow-delivery')

    // — a portal link: read-only, persona A only —
    const created = await api('POST', '/portal-sessions', { persona_id: 'per_a', read_only: true, ttl_s: 600 })
    assert.equal(created.status, 201)
    const portal = await created.json() as { url: string, token: string }
    assert.ok(portal.url.startsWith(`${base}/#token=`))
    const portalContext = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const portalPage = await portalContext.newPage()
    portalPage.setDefaultTimeout(WAIT_MS)
    portalPage.on('pageerror', (err) => pageErrors.push(err.message))
    const requested: string[] = []
    portalPage.on('request', (request) => requested.push(request.url()))
    await portalPage.goto(portal.url)
    await portalPage.locator('[data-testid=webhooks-table]').waitFor()
    assert.ok(!portalPage.url().includes(portal.token), 'the token leaves the address bar')
    await portalPage.getByTestId('portal-banner').getByText('Read-only view').waitFor()
    assert.match(await portalPage.getByTestId('portal-banner').innerText(), /persona per_a/)
    const visible = (await portalPage.locator('[data-testid=webhooks-table] tbody tr').allInnerTexts()).join('\n')
    assert.match(visible, /Persona A hook/)
    assert.doesNotMatch(visible, /Persona B hook|CRM sync/)
    assert.equal(await portalPage.getByRole('link', { name: 'New webhook' }).count(), 0, 'no create button on a read-only link')
    assert.ok((await fitsWidth(portalPage)).fits)
    await shot(portalPage, 'ops-10-portal-webhooks')

    await portalPage.getByRole('link', { name: 'Deliveries', exact: true }).click()
    await portalPage.locator('[data-testid=deliveries-table]').waitFor()
    const portalRows = await portalPage.getByTestId('webhook-name').allTextContents()
    assert.deepEqual([...new Set(portalRows.map((t) => t.trim()))], ['Persona A hook'], 'only persona A\'s deliveries')
    await shot(portalPage, 'ops-11-portal-deliveries')

    await portalPage.goto(`${base}/#/webhooks/${hooks['Persona B hook'] ?? ''}`)
    await portalPage.getByText('Webhook not found').waitFor()
    await shot(portalPage, 'ops-12-portal-other-persona')
    for (const url of requested) assert.ok(!url.includes(portal.token), `the token is in a request URL: ${url}`)

    assert.deepEqual(pageErrors, [])
  } finally {
    await dash.close()
  }
})
