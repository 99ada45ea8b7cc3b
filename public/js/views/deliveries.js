// Delivery lists: the workspace's (#/deliveries) and a webhook's (on its page). Newest first, as
// the API returns them; filters live in the hash so a filtered view can be shared; older pages
// are appended with the API's next_cursor.

import { h, replace, notice, pageHeader, statusBadge, table, time, attemptOutcome, truncate } from '../dom.js'

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed']
export const EVENT_TYPES = [
  'call.started', 'call.ended', 'call.analyzed',
  'campaign.started', 'campaign.ended', 'campaign.paused', 'campaign.resumed', 'campaign.failed',
]

/**
 * @param {import('../main.js').ViewContext} ctx
 */
export async function renderDeliveryList (ctx) {
  const webhookId = ctx.query.get('webhook_id') ?? undefined
  const browser = await deliveryBrowser(ctx, {
    filters: { status: ctx.query.get('status') ?? '', event: ctx.query.get('event') ?? '', webhookId },
    hashFor: (/** @type {URLSearchParams} */ q) => `#/deliveries${q.size ? `?${q}` : ''}`,
    showEventFilter: true,
  })
  replace(ctx.root,
    pageHeader('Deliveries'),
    webhookId
      ? notice('info', 'Showing deliveries of webhook ', h('a', { href: `#/webhooks/${encodeURIComponent(webhookId)}` }, webhookId), '. ',
        h('a', { href: '#/deliveries' }, 'Show all'))
      : null,
    browser)
}

/**
 * A filter bar, a table of deliveries and a "Load older" button.
 * @param {import('../main.js').ViewContext} ctx
 * @param {{ filters: { status: string, event: string, webhookId?: string }, hashFor: (q: URLSearchParams) => string, showEventFilter: boolean, scopedToWebhook?: boolean }} options
 */
export async function deliveryBrowser (ctx, options) {
  const { filters } = options
  /** @param {string | null} cursor */
  const load = (cursor) => ctx.api.listDeliveries({
    webhookId: filters.webhookId,
    scoped: options.scopedToWebhook,
    status: filters.status,
    event: options.showEventFilter ? filters.event : undefined,
    cursor,
  }, ctx.signal)
  const first = await load(null)

  const statusSelect = select('filter-status', 'Status', ['', ...DELIVERY_STATUSES], filters.status, 'any status')
  const eventSelect = options.showEventFilter
    ? select('filter-event', 'Event', ['', ...EVENT_TYPES], filters.event, 'any event')
    : null
  const applyFilters = () => {
    const q = new URLSearchParams()
    if (filters.webhookId && !options.scopedToWebhook) q.set('webhook_id', filters.webhookId)
    const status = /** @type {HTMLSelectElement} */ (statusSelect.querySelector('select')).value
    if (status) q.set('status', status)
    const event = eventSelect ? /** @type {HTMLSelectElement} */ (eventSelect.querySelector('select')).value : ''
    if (event) q.set('event', event)
    ctx.navigate(options.hashFor(q))
  }
  for (const el of [statusSelect, eventSelect]) el?.querySelector('select')?.addEventListener('change', applyFilters)

  const filtered = Boolean(filters.status || filters.event)
  const tbodyRows = first.data.map((/** @type {any} */ d) => deliveryRow(d, !options.scopedToWebhook))
  const body = h('div', { class: 'deliveries' })
  if (first.data.length === 0) {
    replace(body, h('div', { class: 'empty', 'data-testid': 'deliveries-empty' },
      filtered
        ? 'No deliveries match these filters.'
        : 'No deliveries yet. Deliveries appear here when an event is sent — try "Send test event" on a webhook.'))
  } else {
    const t = table(['Created', 'Event', 'Status', 'Attempts', 'Last result', options.scopedToWebhook ? 'URL' : 'Webhook', 'Delivery'], tbodyRows, 'deliveries-table')
    const tbody = /** @type {HTMLElement} */ (t.querySelector('tbody'))
    let cursor = first.next_cursor
    const more = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'data-testid': 'load-more' }, 'Load older'))
    const pager = h('div', { class: 'pager' }, cursor ? more : h('span', { class: 'muted' }, 'End of the list.'))
    more.addEventListener('click', async () => {
      more.disabled = true
      try {
        const page = await load(cursor)
        for (const d of page.data) tbody.append(deliveryRow(d, !options.scopedToWebhook))
        cursor = page.next_cursor
        if (!cursor) replace(pager, h('span', { class: 'muted' }, 'End of the list.'))
        else more.disabled = false
      } catch (err) {
        replace(pager, notice('error', `Could not load more: ${err instanceof Error ? err.message : String(err)}`))
      }
    })
    replace(body, t, pager)
  }

  return h('section', { class: 'delivery-browser' },
    h('div', { class: 'filters' }, statusSelect, eventSelect),
    body)
}

/**
 * @param {any} d a delivery object (docs/api.md)
 * @param {boolean} showWebhook
 */
export function deliveryRow (d, showWebhook) {
  const attempts = Array.isArray(d.attempts) ? d.attempts : []
  const last = attempts[attempts.length - 1]
  const href = `#/deliveries/${encodeURIComponent(d.id)}`
  return h('tr', { 'data-delivery-id': d.id },
    h('td', {}, h('a', { href }, time(d.created_at))),
    h('td', {}, h('a', { href: `#/events/${encodeURIComponent(d.event_id)}`, title: d.event_id }, d.event)),
    h('td', {}, statusBadge(d.status)),
    h('td', { class: 'num' }, String(attempts.length || d.attempt_count || 0)),
    h('td', {}, last ? attemptOutcome(last) : h('span', { class: 'muted' }, d.status === 'pending' ? 'waiting' : '—')),
    h('td', {}, showWebhook
      ? (d.webhook_id
          ? h('a', { href: `#/webhooks/${encodeURIComponent(d.webhook_id)}`, title: d.url }, truncate(d.url, 40))
          : h('span', { title: 'An inline webhook of a call' }, truncate(d.url, 40), h('span', { class: 'muted' }, ' (inline)')))
      : truncate(d.url, 48)),
    h('td', {}, h('a', { href, class: 'mono' }, d.id)))
}

/**
 * @param {string} id
 * @param {string} label
 * @param {string[]} values
 * @param {string} selected
 * @param {string} emptyLabel
 */
function select (id, label, values, selected, emptyLabel) {
  return h('label', { class: 'inline-field', for: id }, `${label} `,
    h('select', { id },
      values.map((v) => h('option', { value: v, selected: v === selected }, v || emptyLabel))))
}
