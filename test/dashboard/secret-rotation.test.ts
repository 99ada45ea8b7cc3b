/**
 * The dashboard's "Signing secret" card in a real browser (Debian's Chromium via playwright-core):
 * no rotation at first, start one, the new secret is revealed once, and the page shows the
 * rotation in progress — also after a reload, which shows no secret.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { skipWithoutChromium } from '../helpers/browser.js'
import { startDashboardApp } from '../helpers/dashboard-app.js'

test('the dashboard starts a secret rotation, reveals the new secret once and shows the rotation in progress', {
  skip: skipWithoutChromium,
  timeout: 120_000,
}, async () => {
  const dash = await startDashboardApp('dashboard-rotation-', 'ws_rot')
  const { store, app, token, base } = dash
  try {
    const created = await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { 'x-api-key': token, 'content-type': 'application/json' }, payload: JSON.stringify({ url: 'https://93.184.216.34/hook', events: ['call.ended'], secret: 'whsec_dashboard_old' }) })
    const id = created.json<{ id: string }>().id

    const { page, pageErrors } = await dash.openPage()
    const requestedUrls: string[] = []
    page.on('request', (request) => requestedUrls.push(request.url()))

    await page.goto(`${base}/`)
    await page.fill('#api-key', token)
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
    assert.equal(requestedUrls.some((u) => u.includes(secret) || u.includes(token)), false)
    assert.deepEqual(pageErrors, [])
  } finally {
    await dash.close()
  }
})
