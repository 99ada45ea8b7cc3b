/**
 * The webhook page's endpoint health in a real browser (Chromium via playwright-core) against the
 * real service and a receiver on 127.0.0.1: a webhook disabled by a 410 shows a clear mark, its
 * breaker and parked count; "Recover failed since…" shows the dry-run count before it runs; Enable
 * replays the parked deliveries. Screenshots go to test-output/screenshots/.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { samplePayload } from '../../src/events/samples.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitFor } from '../helpers/wait-for.js'
import { SHOTS, skipWithoutChromium } from '../helpers/browser.js'
import { startDashboardApp } from '../helpers/dashboard-app.js'

test('the webhook page marks a disabled webhook, shows breaker and parked count, recovers after a dry run, and replays on enable', {
  skip: skipWithoutChromium,
  timeout: 120_000,
}, async () => {
  const dash = await startDashboardApp('dashboard-health-', 'ws_health', 'H')
  const { store, logger, base, cleanups } = dash
  try {
    const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/test' })
    const engine = createEngine({ owner: 'dashboard-health', idlePollMs: 200 }, { store, sender, logger })
    engine.start()
    cleanups.unshift(async () => engine.stop())

    let gone = true
    const receiver = await startReceiver({ respond: () => (gone ? 410 : 200) })
    cleanups.unshift(async () => receiver.close())
    const hook = await store.createWebhook(webhookInput('ws_health', { url: receiver.url, name: 'Old CRM', events: ['call.ended'] }), new Date())
    const send = async (): Promise<string[]> => (await acceptEvent(store, { workspaceId: 'ws_health', event: 'call.ended', data: samplePayload('call.ended') })).deliveryIds
    await send()
    await waitFor('the 410 to disable the webhook', async () => (await store.getWebhook('ws_health', hook.id))?.disabledReason === 'gone')
    for (let i = 0; i < 3; i++) await send()

    const { page, pageErrors } = await dash.openPage()
    await page.setViewportSize({ width: 1280, height: 900 })

    await page.goto(`${base}/`)
    await page.fill('#api-key', dash.token)
    await page.click('button[type=submit]')
    await page.locator(`[data-webhook-id="${hook.id}"]`).getByText('disabled: endpoint gone (410)').waitFor()
    await page.goto(`${base}/#/webhooks/${hook.id}`)
    await page.getByTestId('disabled-mark').waitFor()
    assert.match(await page.getByTestId('disabled-mark').innerText(), /endpoint gone \(410\)/)
    assert.equal(await page.getByTestId('parked-count').innerText(), '3')
    assert.match(await page.getByTestId('breaker').innerText(), /closed/)
    assert.equal(await page.getByTestId('consecutive-failures').innerText(), '1')
    assert.equal(await page.getByTestId('send-test').isDisabled(), true, 'no test send to a disabled webhook')
    await page.screenshot({ path: join(SHOTS, '20-webhook-disabled-gone.png'), fullPage: true })

    // Recover failed since…: the count first, then the run.
    await page.getByTestId('recover-check').click()
    assert.equal(await page.getByTestId('recover-count').innerText(), '1 failed delivery')
    await page.screenshot({ path: join(SHOTS, '21-webhook-recover-dry-run.png'), fullPage: true })
    await page.getByTestId('recover-run').click()
    await page.getByText('1 delivery gets a fresh set of attempts').waitFor()

    // Enable: the parked deliveries (and the recovered one, parked while disabled) all go.
    gone = false
    await page.getByTestId('toggle-enabled').click()
    await page.getByTestId('state').first().getByText('enabled').waitFor()
    await waitFor('every delivery to succeed', async () => (await store.webhookStats('ws_health', [hook.id])).get(hook.id)?.succeededDeliveries === 4)
    await page.reload()
    await page.getByTestId('parked-count').getByText('0').waitFor()
    await page.screenshot({ path: join(SHOTS, '22-webhook-enabled-replayed.png'), fullPage: true })
    assert.deepEqual(pageErrors, [])
  } finally {
    await dash.close()
  }
})
