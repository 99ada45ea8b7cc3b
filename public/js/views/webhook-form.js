// Create and edit a webhook. On creation the API returns the secret once (docs/api.md); it is
// shown here, in the page only, and never put in the URL or stored.

import { portalMode } from '../api.js'
import { h, replace, notice, pageHeader } from '../dom.js'
import { EVENT_TYPES } from './deliveries.js'
import { loadWebhook } from './webhooks.js'

const SIGNING_METHODS = ['hmac_sha256', 'hmac_sha1', 'bearer', 'basic_auth', 'none']
// docs/wire-format.md#delivery-policy defaults, used to prefill the form.
const DEFAULT_SETTINGS = { timeout_ms: 5000, max_retries: 3, backoff_ms: 500 }

/** @param {import('../main.js').ViewContext} ctx */
export function renderWebhookCreate (ctx) {
  const form = webhookForm(null, async (body, showError) => {
    try {
      const created = await ctx.api.createWebhook(body)
      showSecret(ctx, created)
    } catch (err) {
      showError(err)
    }
  })
  replace(ctx.root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/webhooks' }, 'Webhooks'), ' / '),
    pageHeader('New webhook'),
    form)
}

/** @param {import('../main.js').ViewContext} ctx */
export async function renderWebhookEdit (ctx) {
  const id = ctx.params.id ?? ''
  const webhook = await loadWebhook(ctx, id)
  if (webhook === null) return
  const base = `#/webhooks/${encodeURIComponent(id)}`
  const form = webhookForm(webhook, async (body, showError) => {
    try {
      await ctx.api.updateWebhook(id, body)
      ctx.navigate(base)
    } catch (err) {
      showError(err)
    }
  })
  replace(ctx.root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/webhooks' }, 'Webhooks'), ' / ', h('a', { href: base }, webhook.name || webhook.url), ' / '),
    pageHeader('Edit webhook'),
    form)
}

/**
 * @param {import('../main.js').ViewContext} ctx
 * @param {any} created the create response: the webhook plus `secret`
 */
function showSecret (ctx, created) {
  const href = `#/webhooks/${encodeURIComponent(created.id)}`
  const secretBox = created.secret
    ? [
        h('p', {}, h('strong', {}, 'Copy the signing secret now. '), 'It is shown only this once; the API never returns it again.'),
        h('div', { class: 'inline-form' },
          h('input', { type: 'text', readonly: true, class: 'mono secret', value: created.secret, 'data-testid': 'secret', 'aria-label': 'Signing secret', onfocus: (/** @type {Event} */ e) => /** @type {HTMLInputElement} */ (e.target).select() }),
          h('button', {
            type: 'button',
            onclick: async (/** @type {Event} */ e) => {
              const button = /** @type {HTMLButtonElement} */ (e.target)
              try {
                await navigator.clipboard.writeText(created.secret)
                button.textContent = 'Copied'
              } catch {
                button.textContent = 'Select and copy by hand'
              }
            },
          }, 'Copy')),
      ]
    : [h('p', {}, 'This webhook signs nothing (signing method "none"), so it has no secret.')]
  replace(ctx.root,
    pageHeader('Webhook created'),
    h('section', { class: 'card', 'data-testid': 'created' },
      notice('success', 'The webhook ', h('span', { class: 'mono' }, created.id), ' is ', created.enabled ? 'enabled.' : 'disabled.'),
      secretBox,
      h('div', { class: 'form-actions' }, h('a', { class: 'button primary', href, 'data-testid': 'go-to-webhook' }, 'Done — open the webhook'))))
}

/**
 * @param {any | null} webhook null to create
 * @param {(body: Record<string, unknown>, showError: (err: unknown) => void) => Promise<void>} onSave
 */
function webhookForm (webhook, onSave) {
  const creating = webhook === null
  const settings = webhook?.delivery_settings ?? DEFAULT_SETTINGS
  const events = new Set(webhook?.events ?? ['*'])

  const url = input('url', 'url', webhook?.url ?? '', { required: true, placeholder: 'https://example.com/webhooks/kejue', maxlength: 2083 })
  const name = input('name', 'text', webhook?.name ?? '', { placeholder: 'optional' })
  const all = checkbox('event-all', '*', events.has('*'), 'All events (*)')
  const typeBoxes = EVENT_TYPES.map((type) => checkbox(`event-${type}`, type, events.has(type), type))
  const signing = /** @type {HTMLSelectElement} */ (h('select', { id: 'signing_method' },
    SIGNING_METHODS.map((m) => h('option', { value: m, selected: m === (webhook?.signing_method ?? 'hmac_sha256') }, m))))
  const secret = input('secret', 'password', '', { autocomplete: 'off', placeholder: creating ? 'leave empty to generate one' : 'leave empty to keep the current secret' })
  const scope = /** @type {HTMLSelectElement} */ (h('select', { id: 'scope_type' },
    h('option', { value: 'global', selected: webhook?.scope_type !== 'persona' }, 'whole workspace (global)'),
    h('option', { value: 'persona', selected: webhook?.scope_type === 'persona' }, 'one persona')))
  // A persona-scoped portal link manages that persona's webhooks only: the scope is fixed.
  const portalPersona = portalMode()?.personaId ?? null
  if (portalPersona) {
    scope.value = 'persona'
    scope.disabled = true
  }
  const persona = input('persona_id', 'text', webhook?.persona_id ?? portalPersona ?? '', { placeholder: 'persona id' })
  if (portalPersona) persona.setAttribute('readonly', '')
  const timeout = input('timeout_ms', 'number', String(settings.timeout_ms), { min: 1000, max: 30000, step: 1 })
  const retries = input('max_retries', 'number', String(settings.max_retries), { min: 0, max: 10, step: 1 })
  const backoff = input('backoff_ms', 'number', String(settings.backoff_ms), { min: 100, step: 1 })
  const enabled = checkbox('enabled', 'enabled', webhook?.enabled ?? true, 'Enabled')

  const personaField = field('Persona id', persona, 'persona_id')
  const syncScope = () => { personaField.hidden = scope.value !== 'persona' }
  scope.addEventListener('change', syncScope)
  syncScope()
  // "All events" and single types exclude each other, as "*" already covers every type.
  all.querySelector('input')?.addEventListener('change', (e) => {
    if (/** @type {HTMLInputElement} */ (e.target).checked) for (const box of typeBoxes) { const i = box.querySelector('input'); if (i) i.checked = false }
  })
  for (const box of typeBoxes) {
    box.querySelector('input')?.addEventListener('change', () => { const i = all.querySelector('input'); if (i) i.checked = false })
  }

  const errors = h('div', { class: 'form-errors', 'aria-live': 'polite' })
  const save = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary' }, creating ? 'Create webhook' : 'Save changes'))

  /** @param {unknown} err */
  const showError = (err) => {
    save.disabled = false
    const e = /** @type {any} */ (err)
    const fields = Array.isArray(e?.details?.fields) ? e.details.fields : []
    replace(errors, notice('error', h('strong', {}, 'Not saved. '), e instanceof Error ? e.message : String(e),
      fields.length ? h('ul', {}, fields.map((/** @type {any} */ f) => h('li', {}, h('span', { class: 'mono' }, String(f.path)), ': ', String(f.message)))) : null))
    for (const f of fields) {
      const target = document.getElementById(String(f.path).split('.').pop() ?? '')
      target?.setAttribute('aria-invalid', 'true')
    }
  }

  const form = h('form', {
    class: 'card webhook-form',
    method: 'post',
    action: '#',
    novalidate: true,
    onsubmit: async (/** @type {Event} */ event) => {
      event.preventDefault()
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid')
      /** @type {string[]} */
      const chosen = []
      if (checked(all)) chosen.push('*')
      else for (const box of typeBoxes) if (checked(box)) chosen.push(box.querySelector('input')?.value ?? '')
      if (chosen.length === 0) {
        replace(errors, notice('error', 'Choose at least one event, or all events.'))
        return
      }
      /** @type {Record<string, unknown>} */
      const body = {
        url: url.value.trim(),
        events: chosen,
        signing_method: signing.value,
        scope_type: scope.value,
        timeout_ms: Number(timeout.value),
        max_retries: Number(retries.value),
        backoff_ms: Number(backoff.value),
        enabled: checked(enabled),
      }
      const nameValue = name.value.trim()
      if (nameValue || !creating) body.name = nameValue || null
      if (scope.value === 'persona') body.persona_id = persona.value.trim()
      else if (!creating) body.persona_id = null
      if (secret.value) body.secret = secret.value
      save.disabled = true
      replace(errors)
      await onSave(body, showError)
    },
  },
  field('URL', url, 'url', 'Where events are POSTed. http or https.'),
  field('Name', name, 'name'),
  h('fieldset', { class: 'field' }, h('legend', {}, 'Events'), h('div', { class: 'checks' }, all, typeBoxes)),
  h('div', { class: 'grid-2' },
    field('Signing method', signing, 'signing_method', 'hmac_sha256 is what receivers written for Kejue verify.'),
    field(creating ? 'Secret' : 'Replace secret', secret, 'secret')),
  h('div', { class: 'grid-2' }, field('Scope', scope, 'scope_type'), personaField),
  h('div', { class: 'grid-3' },
    field('Timeout (ms)', timeout, 'timeout_ms', '1000–30000'),
    field('Max retries', retries, 'max_retries', '0–10'),
    field('First backoff (ms)', backoff, 'backoff_ms', 'doubles on every retry')),
  h('div', { class: 'field' }, enabled),
  errors,
  h('div', { class: 'form-actions' }, save,
    h('a', { class: 'button', href: creating ? '#/webhooks' : `#/webhooks/${encodeURIComponent(webhook.id)}` }, 'Cancel')))
  return form
}

/**
 * @param {string} id
 * @param {string} type
 * @param {string} value
 * @param {Record<string, string | number | boolean>} [attrs]
 */
function input (id, type, value, attrs = {}) {
  const el = /** @type {HTMLInputElement} */ (h('input', { id, type, ...attrs }))
  el.value = value
  return el
}

/**
 * @param {string} id
 * @param {string} value
 * @param {boolean} isChecked
 * @param {string} label
 */
function checkbox (id, value, isChecked, label) {
  return h('label', { class: 'check', for: id }, h('input', { id, type: 'checkbox', value, checked: isChecked }), ` ${label}`)
}

/** @param {HTMLElement} label */
function checked (label) {
  return Boolean(label.querySelector('input')?.checked)
}

/**
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} id
 * @param {string} [help]
 */
function field (label, control, id, help) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('small', { class: 'muted' }, help) : null)
}
