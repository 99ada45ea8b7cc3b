// One event (#/events/{event_id}): its envelope and its delivery to every webhook.

import { h, replace, pageHeader, table, prettyJson } from '../dom.js'
import { deliveryRow } from './deliveries.js'
import { envelopeOf } from './delivery.js'
import { notFound } from './webhooks.js'

/** @param {import('../main.js').ViewContext} ctx */
export async function renderEvent (ctx) {
  const eventId = ctx.params.eventId ?? ''
  let event
  try {
    event = await ctx.api.getEvent(eventId, ctx.signal)
  } catch (err) {
    if (/** @type {any} */ (err).status === 404) {
      replace(ctx.root, notFound('Event', eventId))
      return
    }
    throw err
  }
  const envelope = envelopeOf(event)
  const deliveries = Array.isArray(event.deliveries) ? event.deliveries : []
  replace(ctx.root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/deliveries' }, 'Deliveries'), ' / '),
    pageHeader(`${envelope.event ?? 'Event'} ${eventId}`),
    h('section', { class: 'card' },
      h('h2', {}, `Deliveries (${deliveries.length})`),
      deliveries.length
        ? table(['Created', 'Event', 'Status', 'Attempts', 'Last result', 'Webhook', 'Delivery'],
          deliveries.map((/** @type {any} */ d) => deliveryRow(d, true)), 'event-deliveries')
        : h('div', { class: 'empty' }, 'No webhook was subscribed to this event when it arrived, so nothing was sent.')),
    h('section', { class: 'card' }, h('h2', {}, 'Envelope'), prettyJson(envelope)))
}
