// The "Signing secret" card of a webhook's page: shows a rotation in progress and starts one
// (POST /webhooks/{id}/rotate-secret, docs/api.md). The new secret is shown once, in the page
// only, and never put in the URL or stored.

import { h, replace, notice, time } from '../dom.js'

const HOUR_MS = 3_600_000
// The choices of overlap; the API allows 0 to 7 days (docs/wire-format.md#secret-rotation).
const OVERLAPS = [
  { ms: 24 * HOUR_MS, label: '24 hours (default)' },
  { ms: HOUR_MS, label: '1 hour' },
  { ms: 7 * 24 * HOUR_MS, label: '7 days' },
  { ms: 0, label: 'none: switch at once' },
]

/** @param {string} method */
function hasOverlap (method) {
  return method === 'hmac_sha256' || method === 'hmac_sha1'
}

/** @param {any} webhook */
function rotationState (webhook) {
  const rotation = webhook.secret_rotation
  if (!rotation) return h('p', { class: 'muted', 'data-testid': 'rotation-state' }, 'No rotation in progress.')
  return notice('info',
    h('span', { 'data-testid': 'rotation-state' }, 'Rotation in progress: the old secret still signs X-Kejue-Signature, the new one X-Kejue-Signature-Next, until '),
    time(rotation.previous_secret_expires_at), '. Update your receivers before then.')
}

/** @param {string} secret */
function revealSecret (secret) {
  const box = /** @type {HTMLInputElement} */ (h('input', { type: 'text', readonly: true, class: 'mono secret', 'data-testid': 'new-secret', 'aria-label': 'New signing secret', onfocus: (/** @type {Event} */ e) => /** @type {HTMLInputElement} */ (e.target).select() }))
  box.value = secret
  const copy = h('button', {
    type: 'button',
    onclick: async (/** @type {Event} */ e) => {
      const button = /** @type {HTMLButtonElement} */ (e.target)
      try {
        await navigator.clipboard.writeText(secret)
        button.textContent = 'Copied'
      } catch {
        button.textContent = 'Select and copy by hand'
      }
    },
  }, 'Copy')
  return [
    h('p', {}, h('strong', {}, 'Copy the new secret now. '), 'It is shown only this once.'),
    h('div', { class: 'inline-form' }, box, copy),
  ]
}

/**
 * @param {import('../main.js').ViewContext} ctx
 * @param {any} webhook
 */
export function secretCard (ctx, webhook) {
  const card = h('section', { class: 'card', 'data-testid': 'secret-card' })
  const status = h('div', { 'aria-live': 'polite' })

  /** @param {any} current */
  function render (current) {
    if (current.signing_method === 'none') {
      replace(card, h('h2', {}, 'Signing secret'), h('p', { class: 'muted' }, 'Signing method "none" has no secret.'))
      return
    }
    const overlapped = hasOverlap(current.signing_method)
    const overlap = /** @type {HTMLSelectElement} */ (h('select', { id: 'rotate-overlap', 'aria-label': 'Overlap' },
      OVERLAPS.map((o) => h('option', { value: String(o.ms) }, o.label))))
    const rotate = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'data-testid': 'rotate-secret' }, 'Rotate secret'))
    rotate.addEventListener('click', async () => {
      rotate.disabled = true
      try {
        /** @type {Record<string, unknown>} */
        const body = overlapped ? { overlap_ms: Number(overlap.value) } : {}
        const rotated = await ctx.api.rotateSecret(current.id, body)
        render(rotated)
        replace(status, ...revealSecret(rotated.secret))
      } catch (err) {
        rotate.disabled = false
        replace(status, notice('error', err instanceof Error ? err.message : String(err)))
      }
    })
    replace(card,
      h('h2', {}, 'Signing secret'),
      overlapped ? rotationState(current) : h('p', { class: 'muted' }, `${current.signing_method} sends the secret itself, so a new one replaces the old at once.`),
      current.signing_method === 'basic_auth'
        ? h('p', { class: 'muted' }, 'For basic_auth, set the new user:password with Edit.')
        : h('div', { class: 'inline-form' }, overlapped ? overlap : null, rotate),
      status)
  }
  render(webhook)
  return card
}
