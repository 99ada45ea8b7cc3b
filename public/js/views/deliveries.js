// Delivery lists: the workspace's (#/deliveries) and a webhook's (on its page). Newest first, as
// the API returns them. The workspace list has one search bar (a job id, contact id, event id,
// webhook id, or `key:value` terms) and the active filters as chips; every filter lives in the
// hash, so a filtered view can be shared. Older pages are appended with the API's next_cursor.

import { h, replace, notice, pageHeader, statusBadge, table, time, attemptOutcome, truncate, labelCells } from '../dom.js'
import { portalMode } from '../api.js'

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'parked']
export const EVENT_TYPES = [
  'call.started', 'call.ended', 'call.analyzed',
  'campaign.started', 'campaign.ended', 'campaign.paused', 'campaign.resumed', 'campaign.failed',
]

/** The filters of GET /deliveries, in chip order, with their labels and search-bar keys. */
export const FILTERS = [
  { param: 'job_id', label: 'Job', keys: ['job', 'job_id', 'call'] },
  { param: 'contact_id', label: 'Contact', keys: ['contact', 'contact_id'] },
  { param: 'event_id', label: 'Event id', keys: ['evt', 'event_id'] },
  { param: 'webhook_id', label: 'Webhook', keys: ['webhook', 'wh', 'webhook_id'] },
  { param: 'status', label: 'Status', keys: ['status'] },
  { param: 'event', label: 'Type', keys: ['type', 'event'] },
  { param: 'since', label: 'Since', keys: ['since', 'from'] },
  { param: 'until', label: 'Until', keys: ['until', 'to'] },
]

const RANGES = [['', 'any time'], ['1h', 'last hour'], ['24h', 'last 24 h'], ['7d', 'last 7 days']]
const RANGE_MS = /** @type {Record<string, number>} */ ({ '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 })

/**
 * Reads search-bar text into filters: `key:value` terms, or bare ids recognised by their prefix
 * (evt_, wh_, ct_, job_), a status or an event type; any other word is taken as a job id.
 * A delivery id (dlv_…) is returned apart: the page opens it directly.
 * @param {string} text
 * @returns {{ filters: Record<string, string>, deliveryId: string | null }}
 */
export function parseSearch (text) {
  /** @type {Record<string, string>} */
  const filters = {}
  let deliveryId = null
  for (const term of text.trim().split(/\s+/).filter(Boolean)) {
    const colon = term.indexOf(':')
    const key = colon > 0 ? term.slice(0, colon).toLowerCase() : ''
    const filter = key ? FILTERS.find((f) => f.keys.includes(key)) : undefined
    if (filter && colon < term.length - 1) {
      filters[filter.param] = term.slice(colon + 1)
      continue
    }
    if (term.startsWith('dlv_')) deliveryId = term
    else if (term.startsWith('evt_')) filters.event_id = term
    else if (term.startsWith('wh_')) filters.webhook_id = term
    else if (term.startsWith('ct_')) filters.contact_id = term
    else if (DELIVERY_STATUSES.includes(term)) filters.status = term
    else if (EVENT_TYPES.includes(term)) filters.event = term
    else filters.job_id = term
  }
  return { filters, deliveryId }
}

/**
 * Names of the workspace's webhooks by id, to show names where ids would be (one request per view).
 * @param {import('../main.js').ViewContext} ctx
 * @returns {Promise<Map<string, string>>}
 */
export async function webhookNames (ctx) {
  try {
    const webhooks = await ctx.api.listWebhooks(ctx.signal)
    return new Map(webhooks.map((/** @type {any} */ w) => [w.id, w.name || w.url]))
  } catch {
    return new Map()
  }
}

/** @param {import('../main.js').ViewContext} ctx */
export async function renderDeliveryList (ctx) {
  /** @type {Record<string, string>} */
  const active = {}
  for (const { param } of FILTERS) {
    const value = ctx.query.get(param)
    if (value) active[param] = value
  }
  const range = ctx.query.get('range') ?? ''
  const names = await webhookNames(ctx)
  const hashFor = (/** @type {Record<string, string>} */ filters, /** @type {string} */ nextRange) => {
    const q = new URLSearchParams()
    for (const { param } of FILTERS) if (filters[param]) q.set(param, filters[param])
    if (nextRange) q.set('range', nextRange)
    return `#/deliveries${q.size ? `?${q}` : ''}`
  }

  // — the search bar —
  const input = /** @type {HTMLInputElement} */ (h('input', {
    type: 'search',
    id: 'search',
    'data-testid': 'search',
    placeholder: 'Search a job, contact, event or delivery id — or status:failed type:call.ended',
    'aria-label': 'Search deliveries',
    autocomplete: 'off',
    spellcheck: 'false',
  }))
  const form = h('form', {
    class: 'search',
    role: 'search',
    onsubmit: (/** @type {Event} */ event) => {
      event.preventDefault()
      const { filters, deliveryId } = parseSearch(input.value)
      if (deliveryId) {
        ctx.navigate(`#/deliveries/${encodeURIComponent(deliveryId)}`)
        return
      }
      ctx.navigate(hashFor({ ...active, ...filters }, range))
    },
  }, input, h('button', { type: 'submit', class: 'primary' }, 'Search'))

  const rangeSelect = /** @type {HTMLSelectElement} */ (h('select', { id: 'filter-range', 'aria-label': 'Time range', 'data-testid': 'filter-range' },
    RANGES.map(([value, label]) => h('option', { value, selected: value === range }, label))))
  rangeSelect.addEventListener('change', () => ctx.navigate(hashFor(active, rangeSelect.value)))
  const statusSelect = quickSelect('filter-status', 'Status', DELIVERY_STATUSES, active.status ?? '', 'any status',
    (value) => ctx.navigate(hashFor({ ...active, status: value }, range)))
  const typeSelect = quickSelect('filter-event', 'Type', EVENT_TYPES, active.event ?? '', 'any type',
    (value) => ctx.navigate(hashFor({ ...active, event: value }, range)))

  // — the chips: one per active filter, each removable —
  const chips = FILTERS.filter(({ param }) => active[param]).map(({ param, label }) => {
    const value = active[param] ?? ''
    const shown = param === 'webhook_id' ? (names.get(value) ?? value) : value
    const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove the ${label.toLowerCase()} filter`, title: 'Remove' }, '×')
    remove.addEventListener('click', () => {
      const next = { ...active }
      delete next[param]
      ctx.navigate(hashFor(next, range))
    })
    return h('span', { class: 'chip', 'data-testid': 'chip', 'data-filter': param }, h('span', { class: 'muted' }, `${label}: `), h('span', { class: 'chip-value' }, shown), remove)
  })
  if (range) {
    const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': 'Remove the time range', title: 'Remove' }, '×')
    remove.addEventListener('click', () => ctx.navigate(hashFor(active, '')))
    chips.push(h('span', { class: 'chip', 'data-testid': 'chip', 'data-filter': 'range' }, h('span', { class: 'muted' }, 'Time: '), RANGES.find(([v]) => v === range)?.[1] ?? range, remove))
  }
  if (chips.length > 1) {
    chips.push(h('a', { href: '#/deliveries', class: 'small', 'data-testid': 'clear-filters' }, 'Clear all'))
  }

  const search = { ...active }
  delete search.status
  delete search.event
  delete search.webhook_id
  if (range && !search.since) search.since = new Date(Date.now() - (RANGE_MS[range] ?? 0)).toISOString()
  const browser = await deliveryBrowser(ctx, {
    filters: { status: active.status ?? '', event: active.event ?? '', webhookId: active.webhook_id, search },
    showEventFilter: true,
    names,
  })
  replace(ctx.root,
    pageHeader('Deliveries'),
    h('div', { class: 'search-panel' },
      form,
      h('div', { class: 'filters' }, statusSelect, typeSelect, h('label', { class: 'inline-field', for: 'filter-range' }, 'Time ', rangeSelect)),
      chips.length ? h('div', { class: 'chips', 'data-testid': 'chips' }, chips) : null),
    browser)
  if (!Object.keys(active).length) input.focus()
}

/**
 * A table of deliveries and a "Load older" button.
 * @param {import('../main.js').ViewContext} ctx
 * @param {{ filters: { status: string, event: string, webhookId?: string, search?: Record<string, string> }, showEventFilter: boolean, scopedToWebhook?: boolean, names?: Map<string, string> }} options
 */
export async function deliveryBrowser (ctx, options) {
  const { filters } = options
  const names = options.names ?? new Map()
  /** @param {string | null} cursor */
  const load = (cursor) => ctx.api.listDeliveries({
    webhookId: filters.webhookId,
    scoped: options.scopedToWebhook,
    status: filters.status,
    event: options.showEventFilter ? filters.event : undefined,
    search: filters.search,
    cursor,
  }, ctx.signal)
  const first = await load(null)

  const filtered = Boolean(filters.status || filters.event || (filters.search && Object.keys(filters.search).length) || (filters.webhookId && !options.scopedToWebhook))
  const headings = ['Created', 'Event', 'Status', 'Attempts', 'Last result', options.scopedToWebhook ? 'URL' : 'Webhook', 'Delivery']
  const body = h('div', { class: 'deliveries' })
  if (first.data.length === 0) {
    replace(body, h('div', { class: 'empty', 'data-testid': 'deliveries-empty' },
      filtered
        ? [h('p', {}, h('strong', {}, 'No deliveries match these filters.')),
            h('p', {}, 'Check the id, widen the time range, or ', h('a', { href: options.scopedToWebhook ? location.hash.split('?')[0] ?? '#/deliveries' : '#/deliveries' }, 'clear the filters'), '.')]
        : [h('p', {}, h('strong', {}, 'No deliveries yet.')),
            h('p', {}, 'A delivery is made for each webhook that an event is sent to. ',
              options.scopedToWebhook
                ? 'Press "Send test event" above to send this webhook a signed sample now.'
                : ['Create a webhook, then press "Send test event" on its page, or POST an event to /api/v1/events. ',
                    h('a', { href: '#/webhooks' }, 'Go to webhooks')])]))
  } else {
    const t = table(headings, first.data.map((/** @type {any} */ d) => deliveryRow(d, !options.scopedToWebhook, names)), 'deliveries-table')
    const tbody = /** @type {HTMLElement} */ (t.querySelector('tbody'))
    let cursor = first.next_cursor
    const more = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'data-testid': 'load-more' }, 'Load older'))
    const pager = h('div', { class: 'pager' }, cursor ? more : h('span', { class: 'muted' }, 'End of the list.'))
    more.addEventListener('click', async () => {
      more.disabled = true
      try {
        const page = await load(cursor)
        for (const d of page.data) {
          const row = deliveryRow(d, !options.scopedToWebhook, names)
          labelCells(row, headings)
          tbody.append(row)
        }
        cursor = page.next_cursor
        if (!cursor) replace(pager, h('span', { class: 'muted' }, 'End of the list.'))
        else more.disabled = false
      } catch (err) {
        replace(pager, notice('error', `Could not load more: ${err instanceof Error ? err.message : String(err)}`))
      }
    })
    replace(body, t, pager)
  }

  return h('section', { class: 'delivery-browser' }, body)
}

/**
 * @param {any} d a delivery object (docs/api.md)
 * @param {boolean} showWebhook
 * @param {Map<string, string>} [names] webhook names by id
 */
export function deliveryRow (d, showWebhook, names = new Map()) {
  const attempts = Array.isArray(d.attempts) ? d.attempts : []
  const last = attempts[attempts.length - 1]
  const href = `#/deliveries/${encodeURIComponent(d.id)}`
  const name = d.webhook_id ? names.get(d.webhook_id) : undefined
  return h('tr', { 'data-delivery-id': d.id },
    h('td', {}, h('a', { href }, time(d.created_at))),
    // Event pages read GET /events, which is for workspace keys only (not portal links).
    h('td', {}, portalMode()
      ? h('span', { title: d.event_id }, d.event)
      : h('a', { href: `#/events/${encodeURIComponent(d.event_id)}`, title: d.event_id }, d.event)),
    h('td', {}, statusBadge(d.status)),
    h('td', { class: 'num' }, String(attempts.length || d.attempt_count || 0)),
    h('td', {}, last ? attemptOutcome(last) : h('span', { class: 'muted' }, d.status === 'pending' ? 'waiting' : '—')),
    h('td', { class: 'break' }, showWebhook
      ? (d.webhook_id
          ? h('a', { href: `#/webhooks/${encodeURIComponent(d.webhook_id)}`, title: `${d.webhook_id} · ${d.url}`, 'data-testid': 'webhook-name' }, truncate(name ?? d.url, 40))
          : h('span', { title: 'An inline webhook of a call' }, truncate(d.url, 40), h('span', { class: 'muted' }, ' (inline)')))
      : truncate(d.url, 48)),
    h('td', { class: 'break' }, h('a', { href, class: 'mono' }, d.id)))
}

/**
 * @param {string} id
 * @param {string} label
 * @param {string[]} values
 * @param {string} selected
 * @param {string} emptyLabel
 * @param {(value: string) => void} onChange
 */
function quickSelect (id, label, values, selected, emptyLabel, onChange) {
  const el = /** @type {HTMLSelectElement} */ (h('select', { id },
    ['', ...values].map((v) => h('option', { value: v, selected: v === selected }, v || emptyLabel))))
  el.addEventListener('change', () => onChange(el.value))
  return h('label', { class: 'inline-field', for: id }, `${label} `, el)
}
