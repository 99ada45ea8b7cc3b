// Webhooks: the list (#/webhooks) and one webhook's page (#/webhooks/{id}) with its settings,
// health (breaker, parked deliveries), actions (test, edit, enable/disable, recover, delete) and
// its deliveries.

import { h, replace, notice, pageHeader, table, time, formatRate, truncate } from '../dom.js'
import { portalMode } from '../api.js'
import { chartsSection, WINDOWS } from './charts.js'
import { deliveryBrowser, EVENT_TYPES } from './deliveries.js'
import { secretCard } from './secret-rotation.js'

/** Below this success rate an enabled webhook shows as failing, not as a green "enabled". */
const FAILING_BELOW_PERCENT = 50

/** Why a webhook is disabled, in words. */
const DISABLED_REASONS = /** @type {Record<string, string>} */ ({
  manual: 'disabled',
  gone: 'disabled: endpoint gone (410)',
  failing: 'disabled: failing',
})

/**
 * Its state as an operator reads it: disabled (and why), breaker open or probing, failing
 * (enabled, but most deliveries fail), or healthy.
 * @param {any} webhook
 */
function stateBadge (webhook) {
  if (!webhook.enabled) {
    const reason = webhook.disabled_reason ?? 'manual'
    return h('span', { class: `badge badge-${reason === 'manual' ? 'disabled' : reason}`, 'data-state': 'disabled', 'data-testid': 'state' }, DISABLED_REASONS[reason] ?? 'disabled')
  }
  const breaker = webhook.health?.breaker ?? 'closed'
  if (breaker !== 'closed') {
    return h('span', { class: `badge badge-${breaker}`, 'data-state': 'failing', 'data-testid': 'state' }, breaker === 'open' ? 'enabled, breaker open' : 'enabled, probing')
  }
  const rate = webhook.stats?.success_rate
  if (typeof rate === 'number' && rate < FAILING_BELOW_PERCENT) {
    return h('span', { class: 'badge badge-failed', 'data-state': 'failing', 'data-testid': 'state', title: `${rate} % of finished deliveries succeeded` }, 'failing')
  }
  return h('span', { class: 'badge badge-enabled', 'data-state': 'healthy', 'data-testid': 'state' }, 'enabled')
}

/** @param {string} breaker */
function breakerBadge (breaker) {
  const words = /** @type {Record<string, string>} */ ({ closed: 'closed (sending)', open: 'open (new deliveries wait)', half_open: 'half open (one probe sent)' })
  return h('span', { class: `badge badge-${breaker}`, 'data-testid': 'breaker' }, words[breaker] ?? breaker)
}

/** @param {any} webhook */
function title (webhook) {
  return webhook.name || webhook.url
}

/** @param {string[]} events */
function eventList (events) {
  if (events.includes('*')) return h('span', { class: 'tag' }, 'all events (*)')
  return h('span', { class: 'tags' }, events.map((e) => h('span', { class: 'tag' }, e)))
}

/** @param {import('../main.js').ViewContext} ctx */
export async function renderWebhookList (ctx) {
  const webhooks = await ctx.api.listWebhooks(ctx.signal)
  const portal = portalMode()
  const create = portal?.readOnly ? null : h('a', { class: 'button primary', href: '#/webhooks/new' }, 'New webhook')
  if (webhooks.length === 0) {
    replace(ctx.root, pageHeader('Webhooks', create),
      h('div', { class: 'empty', 'data-testid': 'webhooks-empty' },
        h('p', {}, h('strong', {}, portal?.personaId ? `No webhooks for persona ${portal.personaId} yet.` : 'No webhooks yet.')),
        h('p', {}, 'A webhook is a URL that receives signed POSTs when call and campaign events happen. ',
          'Create one, press "Send test event" on its page, and its deliveries show up here.'),
        portal?.readOnly
          ? h('p', {}, 'This link is read-only: ask the workspace owner to add one.')
          : h('a', { class: 'button primary', href: '#/webhooks/new' }, 'Create your first webhook')))
    return
  }
  const rows = webhooks.map((/** @type {any} */ w) => {
    const stats = w.stats ?? {}
    const href = `#/webhooks/${encodeURIComponent(w.id)}`
    return h('tr', { 'data-webhook-id': w.id },
      h('td', {}, h('a', { href, class: 'strong' }, truncate(title(w), 48)),
        w.name ? h('div', { class: 'muted small' }, truncate(w.url, 56)) : null),
      h('td', {}, stateBadge(w)),
      h('td', {}, eventList(w.events)),
      h('td', { class: 'num' }, formatRate(stats.success_rate),
        h('div', { class: 'muted small' }, `${stats.total_deliveries ?? 0} ${stats.total_deliveries === 1 ? 'delivery' : 'deliveries'}`)),
      h('td', {}, time(w.last_delivery_at)),
      h('td', { class: 'last-error' }, w.last_error ? truncate(w.last_error, 60) : h('span', { class: 'muted' }, '—')))
  })
  replace(ctx.root, pageHeader('Webhooks', create),
    table(['Webhook', 'State', 'Events', 'Success', 'Last delivery', 'Last error'], rows, 'webhooks-table'))
}

/** @param {import('../main.js').ViewContext} ctx */
export async function renderWebhookDetail (ctx) {
  const id = ctx.params.id ?? ''
  const webhook = await loadWebhook(ctx, id)
  if (webhook === null) return
  const base = `#/webhooks/${encodeURIComponent(id)}`
  const status = h('div', { class: 'action-status', 'aria-live': 'polite' })

  const fail = (/** @type {unknown} */ err) => replace(status, notice('error', err instanceof Error ? err.message : String(err)))

  // Send test event: POST /webhooks/{id}/test returns the delivery, which we open.
  const testEvent = /** @type {HTMLSelectElement} */ (h('select', { id: 'test-event', 'aria-label': 'Event to send' },
    EVENT_TYPES.map((e) => h('option', { value: e, selected: e === 'call.ended' }, e))))
  const testButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'primary', 'data-testid': 'send-test', disabled: !webhook.enabled }, 'Send test event'))
  testButton.addEventListener('click', async () => {
    testButton.disabled = true
    try {
      const delivery = await ctx.api.testWebhook(id, testEvent.value)
      ctx.refreshHealth()
      ctx.navigate(`#/deliveries/${encodeURIComponent(delivery.id)}`)
    } catch (err) {
      testButton.disabled = false
      fail(err)
    }
  })

  const stats = webhook.stats ?? {}
  const parked = stats.parked_deliveries ?? 0
  // Enabling replays the parked deliveries, oldest first; the banner below offers to discard them.
  const toggle = h('button', { type: 'button', 'data-testid': 'toggle-enabled' }, webhook.enabled ? 'Disable' : 'Enable')
  toggle.addEventListener('click', async () => {
    try {
      if (webhook.enabled) await ctx.api.updateWebhook(id, { enabled: false })
      else await ctx.api.enableWebhook(id, true)
      ctx.navigate(base)
    } catch (err) { fail(err) }
  })
  const discard = h('button', { type: 'button', 'data-testid': 'enable-discard' }, 'Enable and discard them')
  discard.addEventListener('click', async () => {
    try {
      await ctx.api.enableWebhook(id, false)
      ctx.navigate(base)
    } catch (err) { fail(err) }
  })
  const disabledBanner = webhook.enabled
    ? null
    : notice('error', h('strong', { 'data-testid': 'disabled-mark' }, `This webhook is ${DISABLED_REASONS[webhook.disabled_reason ?? 'manual'] ?? 'disabled'}`),
      webhook.disabled_at ? [' since ', time(webhook.disabled_at)] : null,
      `. Its new events are parked, not sent: ${parked} parked. Enable it to send them, oldest first. `,
      parked > 0 && portalMode()?.readOnly !== true ? discard : null)

  // Recover failed since…: a dry run first shows how many would be retried; a second press runs it.
  const since = /** @type {HTMLInputElement} */ (h('input', { type: 'datetime-local', id: 'recover-since', 'aria-label': 'Recover failed deliveries created since', required: true }))
  since.value = localInput(new Date(Date.now() - 24 * 3_600_000))
  const recoverResult = h('div', { class: 'recover-result', 'aria-live': 'polite', 'data-testid': 'recover-result' })
  const check = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'data-testid': 'recover-check' }, 'Recover failed since…'))
  check.addEventListener('click', async () => {
    const sinceIso = new Date(since.value).toISOString()
    try {
      const dry = await ctx.api.recoverWebhook(id, { since: sinceIso, dry_run: true })
      if (dry.matched === 0) {
        replace(recoverResult, notice('info', 'No failed deliveries created since then.'))
        return
      }
      const run = h('button', { type: 'button', class: 'primary', 'data-testid': 'recover-run' }, `Retry ${dry.matched} failed ${dry.matched === 1 ? 'delivery' : 'deliveries'}`)
      run.addEventListener('click', async () => {
        try {
          const done = await ctx.api.recoverWebhook(id, { since: sinceIso })
          replace(recoverResult, notice('info', `${done.requeued} ${done.requeued === 1 ? 'delivery gets' : 'deliveries get'} a fresh set of attempts.`))
          ctx.refreshHealth()
        } catch (err) { fail(err) }
      })
      replace(recoverResult, notice('info', h('span', { 'data-testid': 'recover-count' }, `${dry.matched} failed ${dry.matched === 1 ? 'delivery' : 'deliveries'}`), ' would be retried under the current schedule. ', run))
    } catch (err) { fail(err) }
  })

  // Delete asks once more inline rather than with confirm(), which blocks the page.
  const del = h('button', { type: 'button', class: 'danger', 'data-testid': 'delete' }, 'Delete')
  del.addEventListener('click', () => {
    const really = h('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-delete' }, 'Delete this webhook')
    const cancel = h('button', { type: 'button' }, 'Cancel')
    really.addEventListener('click', async () => {
      try {
        await ctx.api.deleteWebhook(id)
        ctx.navigate('#/webhooks')
      } catch (err) { fail(err) }
    })
    cancel.addEventListener('click', () => replace(status))
    replace(status, notice('error', 'Delete this webhook? Its pending deliveries end as failed. This cannot be undone. ', really, ' ', cancel))
  })

  const s = webhook.delivery_settings ?? {}
  const window = WINDOWS.some(([w]) => w === ctx.query.get('window')) ? ctx.query.get('window') ?? '24h' : '24h'
  const charts = await chartsSection(ctx, id, window, (w) => `${base}?window=${w}`)
  const health = webhook.health ?? {}
  const browser = await deliveryBrowser(ctx, {
    filters: { status: ctx.query.get('status') ?? '', event: '', webhookId: id },
    showEventFilter: false,
    scopedToWebhook: true,
  })
  const readOnly = portalMode()?.readOnly === true

  replace(ctx.root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/webhooks' }, 'Webhooks'), ' / '),
    pageHeader(title(webhook), ...(readOnly ? [] : [h('a', { class: 'button', href: `${base}/edit` }, 'Edit'), toggle, del])),
    disabledBanner,
    status,
    charts,
    h('div', { class: 'grid-2' },
      h('section', { class: 'card' },
        h('h2', {}, 'Settings'),
        h('dl', { class: 'props' },
          prop('URL', h('span', { class: 'mono break' }, webhook.url)),
          prop('State', stateBadge(webhook)),
          prop('Events', eventList(webhook.events)),
          prop('Signing', webhook.signing_method),
          prop('Scope', webhook.scope_type === 'persona' ? `persona ${webhook.persona_id}` : 'whole workspace'),
          prop('Timeout', `${s.timeout_ms} ms`),
          prop('Retries', webhook.retry_schedule_ms
            ? `${webhook.retry_schedule_ms.length}, after ${webhook.retry_schedule_ms.map((/** @type {number} */ ms) => formatWait(ms)).join(', ')}`
            : `${s.max_retries}, backoff from ${s.backoff_ms} ms`),
          prop('Ordering', webhook.ordering === 'per_call' ? 'per call, one at a time' : 'none'),
          prop('Rate limit', webhook.rate_limit_per_s == null ? 'none' : `${webhook.rate_limit_per_s} per second`),
          prop('Filter', webhook.filter == null ? 'every event' : h('code', { class: 'mono break', 'data-testid': 'webhook-filter' }, JSON.stringify(webhook.filter))),
          prop('Headers', webhook.headers == null ? 'none' : h('span', { class: 'mono break', 'data-testid': 'webhook-headers' }, Object.keys(webhook.headers).join(', '))),
          prop('Id', h('span', { class: 'mono' }, webhook.id)),
          prop('Created', time(webhook.created_at)),
          prop('Updated', time(webhook.updated_at)))),
      h('section', { class: 'card' },
        h('h2', {}, 'Health'),
        h('dl', { class: 'props', 'data-testid': 'health' },
          prop('State', stateBadge(webhook)),
          prop('Breaker', breakerBadge(health.breaker ?? 'closed')),
          prop('Failed attempts in a row', h('span', { 'data-testid': 'consecutive-failures' }, String(health.consecutive_failures ?? 0))),
          prop('Last success', time(health.last_success_at ?? null)),
          prop('Parked', h('span', { 'data-testid': 'parked-count' }, String(parked))),
          prop('Success rate', formatRate(stats.success_rate)),
          prop('Deliveries', `${stats.total_deliveries ?? 0} (${stats.failed_deliveries ?? 0} failed)`),
          prop('Last delivery', time(webhook.last_delivery_at)),
          prop('Last error', webhook.last_error ? h('span', { class: 'error-text' }, webhook.last_error) : '—')),
        readOnly ? null : h('h2', {}, 'Recover'),
        readOnly ? null : h('p', { class: 'muted' }, 'Failed deliveries created since then get a fresh set of attempts.'),
        readOnly ? null : h('div', { class: 'inline-form' }, since, check),
        readOnly ? null : recoverResult,
        readOnly ? null : h('h2', {}, 'Test'),
        readOnly ? null : h('p', { class: 'muted' }, webhook.enabled ? 'Sends a sample event to this URL now, signed like a real one.' : 'Enable the webhook to send a test event.'),
        readOnly ? null : h('div', { class: 'inline-form' }, testEvent, testButton))),
    readOnly ? null : secretCard(ctx, webhook),
    h('section', {},
      h('div', { class: 'section-header' }, h('h2', {}, 'Deliveries'),
        h('a', { href: `#/deliveries?webhook_id=${encodeURIComponent(id)}` }, 'Search these deliveries →')),
      browser))
}

/**
 * A retry wait in the largest fitting unit: 500 ms, 30 s, 15 min, 6 h, 1 d.
 * @param {number} ms
 */
function formatWait (ms) {
  for (const [unit, size] of /** @type {Array<[string, number]>} */ ([['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1_000]])) {
    if (ms >= size) return `${Math.round((ms / size) * 10) / 10} ${unit}`
  }
  return `${ms} ms`
}

/**
 * A date as a datetime-local input value (local time, minutes).
 * @param {Date} date
 */
function localInput (date) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/**
 * @param {string} term
 * @param {import('../dom.js').Child} value
 */
export function prop (term, value) {
  return [h('dt', {}, term), h('dd', {}, value)]
}

/**
 * The webhook of a page, or null after showing "not found" in its place (another workspace's
 * id is a 404 too).
 * @param {import('../main.js').ViewContext} ctx
 * @param {string} id
 */
export async function loadWebhook (ctx, id) {
  try {
    return await ctx.api.getWebhook(id, ctx.signal)
  } catch (err) {
    if (/** @type {any} */ (err).status === 404) {
      replace(ctx.root, notFound('Webhook', id))
      return null
    }
    throw err
  }
}

/**
 * @param {string} what
 * @param {string} id
 */
export function notFound (what, id) {
  return h('div', { class: 'empty', 'data-testid': 'not-found' },
    h('h1', {}, `${what} not found`),
    h('p', {}, `There is no ${what.toLowerCase()} `, h('span', { class: 'mono' }, id), ' in this workspace.'),
    h('p', {}, h('a', { href: '#/webhooks' }, 'Back to webhooks')))
}
