/**
 * The dashboard's webhook form edits the subscription options (docs/api.md): ordering, rate
 * limit, filter and custom headers, shown back on the webhook page; a refused header name is
 * reported next to the field. Real browser (Debian's Chromium via playwright-core), real API.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { skipWithoutChromium } from '../helpers/browser.js'
import { startDashboardApp } from '../helpers/dashboard-app.js'

test('the webhook form sets and edits ordering, rate limit, filter and custom headers', {
  skip: skipWithoutChromium,
  timeout: 120_000,
}, async () => {
  const dash = await startDashboardApp('dashboard-options-', 'ws_opts')
  const { store, token, base } = dash
  try {
    const { page, pageErrors } = await dash.openPage()

    await page.goto(`${base}/`)
    await page.fill('#api-key', token)
    await page.getByRole('button', { name: /sign in/i }).click()
    await page.getByRole('link', { name: 'Create your first webhook' }).click()
    await page.fill('#url', 'http://127.0.0.1:9/hooks')
    await page.selectOption('#ordering', 'per_call')
    await page.fill('#rate_limit_per_s', '20')
    await page.fill('#filter', '{"data.status": "completed", "data.call.score": {"gte": 80}}')
    await page.fill('#headers', 'X-Tenant: acme\nX-Api-Gateway-Key: gw-1')
    await page.getByRole('button', { name: 'Create webhook' }).click()
    await page.getByTestId('go-to-webhook').click()
    await page.getByTestId('webhook-filter').waitFor()
    assert.equal(await page.getByTestId('webhook-headers').innerText(), 'X-Tenant, X-Api-Gateway-Key')

    const [created] = await store.listWebhooks('ws_opts')
    assert.ok(created)
    assert.equal(created.ordering, 'per_call')
    assert.equal(created.rateLimitPerS, 20)
    assert.deepEqual(created.filter, { 'data.status': 'completed', 'data.call.score': { gte: 80 } })
    assert.deepEqual(created.headers, { 'X-Tenant': 'acme', 'X-Api-Gateway-Key': 'gw-1' })

    // Edit: the form is prefilled; a forbidden header is refused and marked; clearing works.
    await page.getByRole('link', { name: 'Edit' }).click()
    assert.equal(await page.inputValue('#rate_limit_per_s'), '20')
    assert.match(await page.inputValue('#headers'), /X-Tenant: acme/)
    await page.fill('#headers', 'Authorization: Bearer nope')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByText('headers.Authorization').waitFor()
    assert.equal(await page.getAttribute('#headers', 'aria-invalid'), 'true')
    await page.fill('#headers', '')
    await page.fill('#filter', '')
    await page.fill('#rate_limit_per_s', '')
    await page.selectOption('#ordering', 'none')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByTestId('send-test').waitFor()
    const after = await store.getWebhook('ws_opts', created.id)
    assert.deepEqual([after?.ordering, after?.rateLimitPerS, after?.filter, after?.headers], ['none', null, null, null])
    assert.deepEqual(pageErrors, [])
  } finally {
    await dash.close()
  }
})
