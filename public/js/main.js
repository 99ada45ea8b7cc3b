// The dashboard's entry point: session, hash routing and the health strip.
// Routes live in the hash (#/deliveries/dlv_…) so that the service serves one page and every
// link is shareable; only ids and filters go there, never a key or a secret.

import { createApi, loadKey, saveKey, clearKey, takePortalToken, portalMode } from './api.js'
import { h, replace, notice } from './dom.js'
import { renderSignIn } from './views/sign-in.js'
import { renderWebhookList, renderWebhookDetail } from './views/webhooks.js'
import { renderWebhookCreate, renderWebhookEdit } from './views/webhook-form.js'
import { renderDeliveryList } from './views/deliveries.js'
import { renderDelivery } from './views/delivery.js'
import { renderEvent } from './views/event.js'

/**
 * @typedef {object} ViewContext
 * @property {import('./api.js').Api} api
 * @property {HTMLElement} root where the view draws
 * @property {Record<string, string>} params path parameters
 * @property {URLSearchParams} query the part of the hash after `?`
 * @property {AbortSignal} signal aborted when the user leaves the view
 * @property {(hash: string) => void} navigate
 * @property {() => void} refreshHealth
 */

/** @type {Array<[RegExp, string[], (ctx: ViewContext) => Promise<void> | void, string]>} */
const ROUTES = [
  [/^\/webhooks$/, [], renderWebhookList, 'webhooks'],
  [/^\/webhooks\/new$/, [], renderWebhookCreate, 'webhooks'],
  [/^\/webhooks\/([^/]+)$/, ['id'], renderWebhookDetail, 'webhooks'],
  [/^\/webhooks\/([^/]+)\/edit$/, ['id'], renderWebhookEdit, 'webhooks'],
  [/^\/deliveries$/, [], renderDeliveryList, 'deliveries'],
  [/^\/deliveries\/([^/]+)$/, ['id'], renderDelivery, 'deliveries'],
  [/^\/events\/([^/]+)$/, ['eventId'], renderEvent, 'deliveries'],
]

const HEALTH_POLL_MS = 10_000

// A portal link (#token=kp_…) signs this tab in; the token leaves the address bar at once.
takePortalToken()

const view = /** @type {HTMLElement} */ (document.getElementById('view'))
const banner = /** @type {HTMLElement} */ (document.getElementById('portal-banner'))
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'))
const health = /** @type {HTMLElement} */ (document.getElementById('health'))
const signOutButton = /** @type {HTMLElement} */ (document.getElementById('sign-out'))

/** @type {AbortController | null} */
let current = null
/** @type {string | null} */
let signInMessage = null

const api = createApi({
  getKey: loadKey,
  // The key stopped working (revoked, or the service was reset): back to the sign-in form.
  onUnauthorized: () => {
    const wasPortal = portalMode() !== null || (loadKey() ?? '').startsWith('kp_')
    clearKey()
    signInMessage = wasPortal
      ? 'This portal link has expired or was revoked. Ask for a new link.'
      : 'Your API key is no longer accepted. Sign in again.'
    route()
  },
})

/** @param {string} hash */
function navigate (hash) {
  if (location.hash === hash) route()
  else location.hash = hash
}

function parseHash () {
  const raw = location.hash.replace(/^#/, '') || '/webhooks'
  const [path = '/webhooks', search = ''] = raw.split('?', 2)
  return { path, query: new URLSearchParams(search) }
}

function setSignedIn (/** @type {boolean} */ signedIn) {
  nav.hidden = !signedIn
  health.hidden = !signedIn
  signOutButton.hidden = !signedIn
  const portal = signedIn ? portalMode() : null
  banner.hidden = portal === null
  if (portal !== null) {
    replace(banner,
      h('strong', {}, portal.readOnly ? 'Read-only view' : 'Portal view'),
      portal.personaId ? ` of persona ${portal.personaId}` : ' of this workspace',
      portal.expiresAt ? h('span', { class: 'muted' }, ` · link expires ${new Date(portal.expiresAt).toLocaleString()}`) : null)
  }
}

async function route () {
  current?.abort()
  const controller = new AbortController()
  current = controller
  window.scrollTo(0, 0)

  if (!loadKey()) {
    setSignedIn(false)
    const message = signInMessage
    signInMessage = null
    renderSignIn({
      root: view,
      api,
      message,
      onSignedIn: (key) => {
        saveKey(key)
        route()
      },
    })
    return
  }
  setSignedIn(true)
  refreshHealth()

  const { path, query } = parseHash()
  for (const [pattern, names, render, section] of ROUTES) {
    const match = pattern.exec(path)
    if (!match) continue
    /** @type {Record<string, string>} */
    const params = {}
    names.forEach((name, i) => { params[name] = decodeURIComponent(match[i + 1] ?? '') })
    for (const link of nav.querySelectorAll('a')) {
      link.classList.toggle('active', link.dataset.nav === section)
    }
    replace(view, h('p', { class: 'loading' }, 'Loading…'))
    try {
      await render({ api, root: view, params, query, signal: controller.signal, navigate, refreshHealth })
      // The first API answer says whether this is a portal link (X-Kejue-Portal): show its banner.
      if (!controller.signal.aborted) setSignedIn(true)
    } catch (err) {
      if (controller.signal.aborted) return
      if (err instanceof Error && err.name === 'AbortError') return
      replace(view, notice('error', h('strong', {}, 'Something went wrong. '), err instanceof Error ? err.message : String(err)))
    }
    return
  }
  replace(view, notice('error', 'There is no page at this address. ', h('a', { href: '#/webhooks' }, 'Go to webhooks')))
}

let healthBusy = false
async function refreshHealth () {
  if (!loadKey() || healthBusy) return
  healthBusy = true
  try {
    const stats = await api.stats()
    replace(health,
      h('span', { class: 'metric', 'data-testid': 'health-pending', title: 'This workspace\'s deliveries waiting for an attempt' },
        h('b', {}, String(stats.pending)), ' pending'),
      h('a', {
        class: stats.failed_last_hour > 0 ? 'metric bad' : 'metric',
        'data-testid': 'health-failed',
        href: '#/deliveries?status=failed&range=1h',
        title: 'This workspace\'s deliveries that ended failed in the last hour',
      }, h('b', {}, String(stats.failed_last_hour)), ' failed in the last hour'))
    health.hidden = false
  } catch {
    // The strip is a convenience; when the numbers cannot be had, leave it out.
    health.hidden = true
  } finally {
    healthBusy = false
  }
}

signOutButton.addEventListener('click', () => {
  clearKey()
  replace(health)
  navigate('#/webhooks')
})
window.addEventListener('hashchange', route)
setInterval(refreshHealth, HEALTH_POLL_MS)
route()
