// Sign-in: the user pastes a workspace API key. It is checked with one API call before it is kept
// (sessionStorage, see api.js). The input has no `name`, so even a native form submission without
// JavaScript could not carry it anywhere.

import { h, replace, notice } from '../dom.js'

/**
 * @param {{ root: HTMLElement, api: import('../api.js').Api, message: string | null, onSignedIn: (key: string) => void }} options
 */
export function renderSignIn ({ root, api, message, onSignedIn }) {
  const input = /** @type {HTMLInputElement} */ (h('input', {
    id: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'Workspace API key',
    'aria-describedby': 'sign-in-help',
  }))
  const status = h('div', { 'data-testid': 'sign-in-status' }, message ? notice('info', message) : null)
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary' }, 'Sign in'))

  const form = h('form', {
    class: 'card sign-in',
    method: 'post',
    action: '#',
    onsubmit: async (/** @type {Event} */ event) => {
      event.preventDefault()
      const key = input.value.trim()
      if (!key) {
        replace(status, notice('error', 'Paste your workspace API key first.'))
        return
      }
      button.disabled = true
      replace(status, h('p', { class: 'loading' }, 'Checking the key…'))
      try {
        await api.checkKey(key)
        input.value = ''
        onSignedIn(key)
      } catch (err) {
        const e = /** @type {import('../api.js').ApiError} */ (err)
        const text = e.status === 401
          ? 'That API key was not accepted. Check that you copied the whole key and that it belongs to a workspace (the admin key cannot list webhooks).'
          : `Could not sign in: ${e.message}`
        replace(status, notice('error', h('strong', {}, 'Sign-in failed. '), text))
        button.disabled = false
        input.select()
      }
    },
  },
  h('h1', {}, 'Sign in'),
  h('p', { id: 'sign-in-help', class: 'muted' },
    'Use a workspace API key (the server prints one at first start). ',
    'It stays in this browser tab only and is sent to this service in the X-API-Key header.'),
  h('label', { for: 'api-key' }, 'API key'),
  input,
  h('div', { class: 'form-actions' }, button),
  status)

  replace(root, form)
  input.focus()
}
