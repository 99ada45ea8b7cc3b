// One delivery (#/deliveries/{id}): what was sent (the envelope, from GET /events/{event_id}),
// every attempt with what the endpoint answered, when the next retry is due, and a Retry button.
// While the delivery is pending the page polls it every second, so retries appear as they happen.

import { h, replace, notice, pageHeader, statusBadge, table, time, formatDuration, formatRelative, attemptOutcome, prettyJson } from '../dom.js'
import { portalMode } from '../api.js'
import { prop, notFound } from './webhooks.js'
import { webhookNames } from './deliveries.js'

const POLL_MS = 1000

/** @param {import('../main.js').ViewContext} ctx */
export async function renderDelivery (ctx) {
  const id = ctx.params.id ?? ''
  let delivery
  try {
    delivery = await ctx.api.getDelivery(id, ctx.signal)
  } catch (err) {
    if (/** @type {any} */ (err).status === 404) {
      replace(ctx.root, notFound('Delivery', id))
      return
    }
    throw err
  }

  const names = await webhookNames(ctx)
  const portal = portalMode()
  const live = h('div', { class: 'live' })
  const actionStatus = h('div', { class: 'action-status', 'aria-live': 'polite' })
  const envelopeSection = h('section', { class: 'card' }, h('h2', {}, 'Envelope'), h('p', { class: 'loading' }, 'Loading…'))
  const retry = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'primary', 'data-testid': 'retry' }, 'Retry now'))

  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null
  ctx.signal.addEventListener('abort', () => { if (timer) clearTimeout(timer) })

  const schedulePoll = () => {
    if (timer) clearTimeout(timer)
    timer = null
    if (delivery.status !== 'pending' || ctx.signal.aborted) return
    timer = setTimeout(async () => {
      try {
        delivery = await ctx.api.getDelivery(id, ctx.signal)
        if (ctx.signal.aborted) return
        draw()
      } catch (err) {
        if (ctx.signal.aborted) return
        replace(actionStatus, notice('error', `Could not refresh: ${err instanceof Error ? err.message : String(err)}`))
      }
      schedulePoll()
    }, POLL_MS)
  }

  /** @type {HTMLElement | null} */
  let retryNotice = null
  let lastStatus = delivery.status
  const draw = () => {
    replace(live, summary(delivery, names), attemptsSection(delivery))
    if (delivery.status !== lastStatus) {
      lastStatus = delivery.status
      ctx.refreshHealth()
      // The retry has run: its result is on the page now.
      if (delivery.status !== 'pending' && retryNotice) {
        retryNotice.remove()
        retryNotice = null
      }
    }
  }

  retry.addEventListener('click', async () => {
    retry.disabled = true
    replace(actionStatus)
    try {
      const after = await ctx.api.retryDelivery(id)
      // The retry answer may be the delivery itself; read it again to be sure of its attempts.
      delivery = after && after.id === id && Array.isArray(after.attempts) ? after : await ctx.api.getDelivery(id, ctx.signal)
      if (ctx.signal.aborted) return
      retryNotice = notice('info', 'Retry queued: the next attempt is due now.')
      replace(actionStatus, retryNotice)
      lastStatus = ''
      draw()
      schedulePoll()
    } catch (err) {
      replace(actionStatus, notice('error', `Retry failed: ${err instanceof Error ? err.message : String(err)}`))
    } finally {
      retry.disabled = false
    }
  })

  replace(ctx.root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/deliveries' }, 'Deliveries'), ' / '),
    pageHeader(`Delivery ${id}`, portal?.readOnly ? null : retry),
    actionStatus,
    live,
    envelopeSection)
  draw()
  schedulePoll()

  if (portal) {
    // A portal link does not read events (GET /events is for workspace keys).
    replace(envelopeSection, h('h2', {}, 'Envelope'), h('p', { class: 'muted' }, 'The event\'s body is shown to workspace keys only.'))
    return
  }
  try {
    const event = await ctx.api.getEvent(delivery.event_id, ctx.signal)
    if (ctx.signal.aborted) return
    replace(envelopeSection,
      h('div', { class: 'section-header' }, h('h2', {}, 'Envelope'),
        h('a', { href: `#/events/${encodeURIComponent(delivery.event_id)}` }, 'All deliveries of this event →')),
      h('p', { class: 'muted' }, 'The body every attempt POSTs, byte for byte (shown pretty-printed).'),
      prettyJson(envelopeOf(event)))
  } catch (err) {
    if (ctx.signal.aborted) return
    replace(envelopeSection, h('h2', {}, 'Envelope'), notice('error', `Could not load the event: ${err instanceof Error ? err.message : String(err)}`))
  }
}

/**
 * GET /events/{id} answers the envelope and its deliveries; accept either `{envelope, deliveries}`
 * or the envelope's own fields next to `deliveries`.
 * @param {any} event
 */
export function envelopeOf (event) {
  if (event && typeof event.envelope === 'object' && event.envelope) return event.envelope
  if (event && typeof event === 'object') {
    const { deliveries: _deliveries, ...rest } = event
    return rest
  }
  return event
}

/** @param {any} d @param {Map<string, string>} names */
function summary (d, names) {
  const attempts = Array.isArray(d.attempts) ? d.attempts : []
  return h('section', { class: 'card summary' },
    h('dl', { class: 'props' },
      prop('Status', h('span', {}, statusBadge(d.status),
        d.status === 'pending' ? h('span', { class: 'muted small live-dot' }, ' updating every second') : null)),
      prop('Event', h('span', {}, h('a', { href: `#/events/${encodeURIComponent(d.event_id)}` }, d.event), ' ',
        h('span', { class: 'mono muted small' }, d.event_id))),
      prop('Webhook', d.webhook_id
        ? h('span', {}, h('a', { href: `#/webhooks/${encodeURIComponent(d.webhook_id)}`, 'data-testid': 'webhook-name' }, names.get(d.webhook_id) ?? d.webhook_id),
          ' ', h('span', { class: 'mono muted small' }, d.webhook_id))
        : h('span', { class: 'muted' }, 'inline webhook of a call')),
      prop('URL', h('span', { class: 'mono break' }, d.url)),
      prop('Created', time(d.created_at)),
      prop('Attempts', String(attempts.length)),
      prop('Next attempt', d.next_attempt_at
        ? h('span', { 'data-testid': 'next-attempt' }, time(d.next_attempt_at), ` (${formatRelative(d.next_attempt_at)})`)
        : h('span', { class: 'muted' }, 'none'))))
}

/** @param {any} d */
function attemptsSection (d) {
  const attempts = Array.isArray(d.attempts) ? d.attempts : []
  if (attempts.length === 0) {
    return h('section', { class: 'card' }, h('h2', {}, 'Attempts'),
      h('div', { class: 'empty', 'data-testid': 'attempts-empty' },
        d.status === 'pending' ? 'No attempt yet: the first one is on its way.' : 'No attempt was made.'))
  }
  const rows = attempts.map((/** @type {any} */ a) => {
    const ok = typeof a.status_code === 'number' && a.status_code >= 200 && a.status_code < 300
    return h('tr', { 'data-testid': 'attempt-row', 'data-attempt': String(a.attempt) },
      h('td', { class: 'num' }, `#${a.attempt}`),
      h('td', {}, time(a.started_at)),
      h('td', { class: 'num' }, formatDuration(a.duration_ms)),
      h('td', {}, statusBadge(ok ? 'succeeded' : 'failed')),
      h('td', { 'data-testid': 'attempt-outcome' }, attemptOutcome(a)),
      h('td', { class: 'excerpt' }, h('div', {},
        a.response_excerpt ? h('pre', { class: 'excerpt' }, a.response_excerpt) : h('span', { class: 'muted' }, 'empty'),
        requestHeaders(a))))
  })
  if (d.status === 'pending' && d.next_attempt_at) {
    rows.push(h('tr', { class: 'upcoming' },
      h('td', { class: 'num' }, `#${attempts.length + 1}`),
      h('td', { colspan: 5 }, 'Due ', time(d.next_attempt_at), ` (${formatRelative(d.next_attempt_at)})`)))
  }
  return h('section', { class: 'card' }, h('h2', {}, 'Attempts'),
    table(['#', 'Started', 'Duration', 'Status', 'Result', 'Response and request'], rows, 'attempts-table'))
}

/**
 * The headers the attempt was sent with (secrets masked by the API), folded away.
 * @param {any} a
 */
function requestHeaders (a) {
  if (!a.request_headers) return null
  return h('details', { class: 'headers', 'data-testid': 'request-headers' },
    h('summary', {}, 'Request headers'),
    h('dl', { class: 'header-list' }, Object.entries(a.request_headers).flatMap(([name, value]) =>
      [h('dt', { class: 'mono' }, name), h('dd', { class: 'mono break' }, String(value))])))
}
