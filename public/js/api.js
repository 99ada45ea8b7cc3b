// A small client for the public REST API (docs/api.md). The dashboard does nothing the API does
// not allow: every action is one of these calls, authenticated with the workspace key.
//
// The key is kept in sessionStorage only (gone when the tab closes) and sent as X-API-Key; it never
// goes into a URL, so it cannot end up in history, Referer headers or access logs.
//
// A portal link (POST /portal-sessions) opens the dashboard with `#token=kp_…`: the token is taken
// from the fragment (which browsers never send to a server), kept like a key, and the fragment is
// wiped from the address bar and history at once (takePortalToken).

const KEY_STORAGE = 'kejue-webhooks.apiKey'
const PORTAL_STORAGE = 'kejue-webhooks.portal'
const PREFIX = '/api/v1'

/**
 * A portal token in the URL fragment becomes the session's key; returns true when one was taken.
 * The address bar keeps the rest of the route (`#token=…&/deliveries` is not a thing: the
 * dashboard starts at its home page).
 */
export function takePortalToken () {
  const match = /^#token=([^&]+)/.exec(location.hash)
  if (!match || !match[1]) return false
  saveKey(decodeURIComponent(match[1]))
  sessionStorage.removeItem(PORTAL_STORAGE)
  window.history.replaceState(null, '', `${location.pathname}${location.search}#/webhooks`)
  return true
}

/**
 * What the current portal link may do, from the API's X-Kejue-Portal header; null for a workspace key.
 * @returns {{ readOnly: boolean, personaId: string | null, expiresAt: string | null } | null}
 */
export function portalMode () {
  const raw = sessionStorage.getItem(PORTAL_STORAGE)
  if (!raw) return null
  /** @type {Record<string, string>} */
  const fields = {}
  for (const part of raw.split(';')) {
    const [name, value = ''] = part.trim().split('=')
    if (name) fields[name] = decodeURIComponent(value)
  }
  return { readOnly: fields.read_only === '1', personaId: fields.persona_id ?? null, expiresAt: fields.expires_at ?? null }
}

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the service could not be reached
   * @param {string} code the contract's UPPER_SNAKE code
   * @param {string} message
   * @param {Record<string, unknown>} [details]
   */
  constructor (status, code, message, details = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }
}

export function loadKey () {
  return sessionStorage.getItem(KEY_STORAGE)
}

/** @param {string} key */
export function saveKey (key) {
  sessionStorage.setItem(KEY_STORAGE, key)
}

export function clearKey () {
  sessionStorage.removeItem(KEY_STORAGE)
  sessionStorage.removeItem(PORTAL_STORAGE)
}

/**
 * @param {Record<string, string | undefined | null>} [query]
 */
function queryString (query = {}) {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, value)
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

/** @param {string} id */
const seg = (id) => encodeURIComponent(id)

/**
 * @param {{ getKey: () => string | null, onUnauthorized?: () => void }} options
 */
export function createApi ({ getKey, onUnauthorized }) {
  /**
   * @param {string} method
   * @param {string} path below /api/v1
   * @param {{ body?: unknown, query?: Record<string, string | undefined | null>, signal?: AbortSignal, key?: string, quiet401?: boolean }} [options]
   * @returns {Promise<any>}
   */
  async function request (method, path, options = {}) {
    const key = options.key ?? getKey()
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' }
    if (key) headers['X-API-Key'] = key
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    let response
    try {
      response = await fetch(PREFIX + path + queryString(options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      })
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') throw err
      throw new ApiError(0, 'NETWORK', 'The service could not be reached. Is it running?')
    }
    const portal = response.headers.get('x-kejue-portal')
    if (portal && !options.key) sessionStorage.setItem(PORTAL_STORAGE, portal)
    if (response.status === 204) return null
    const text = await response.text()
    /** @type {any} */
    let json = null
    try {
      json = text ? JSON.parse(text) : null
    } catch {
      json = null
    }
    if (!response.ok) {
      const error = new ApiError(
        response.status,
        (json && typeof json.code === 'string') ? json.code : `HTTP_${response.status}`,
        (json && typeof json.error === 'string') ? json.error : `${response.status} ${response.statusText}`,
        (json && typeof json.details === 'object' && json.details) ? json.details : {},
      )
      if (response.status === 401 && !options.quiet401 && onUnauthorized) onUnauthorized()
      throw error
    }
    return json
  }

  return {
    request,
    /** Checks a key before it is kept: any authenticated read will do. @param {string} key */
    checkKey: (key) => request('GET', '/webhooks', { key, quiet401: true }),
    /** @param {AbortSignal} [signal] */
    listWebhooks: (signal) => request('GET', '/webhooks', { signal }),
    /** @param {string} id @param {AbortSignal} [signal] */
    getWebhook: (id, signal) => request('GET', `/webhooks/${seg(id)}`, { signal }),
    /** @param {object} body */
    createWebhook: (body) => request('POST', '/webhooks', { body }),
    /** @param {string} id @param {object} patch */
    updateWebhook: (id, patch) => request('PATCH', `/webhooks/${seg(id)}`, { body: patch }),
    /** @param {string} id */
    deleteWebhook: (id) => request('DELETE', `/webhooks/${seg(id)}`),
    /** @param {string} id @param {object} body `{secret?, overlap_ms?}` */
    rotateSecret: (id, body) => request('POST', `/webhooks/${seg(id)}/rotate-secret`, { body }),
    /** @param {string} id @param {boolean} replayParked */
    enableWebhook: (id, replayParked) => request('POST', `/webhooks/${seg(id)}/enable`, { body: { replay_parked: replayParked } }),
    /** @param {string} id @param {{ since: string, until?: string, dry_run?: boolean }} body */
    recoverWebhook: (id, body) => request('POST', `/webhooks/${seg(id)}/recover`, { body }),
    /** @param {string} id @param {string} event */
    testWebhook: (id, event) => request('POST', `/webhooks/${seg(id)}/test`, { body: { event } }),
    /**
     * A webhook's deliveries (`scoped`: GET /webhooks/{id}/deliveries) or the workspace's
     * (GET /deliveries, with the search filters). Newest first; `{data, next_cursor}`.
     * @param {{ webhookId?: string, scoped?: boolean, status?: string, event?: string, cursor?: string | null, search?: Record<string, string> }} filter
     * @param {AbortSignal} [signal]
     */
    listDeliveries: (filter, signal) => {
      const query = { status: filter.status, event: filter.event, cursor: filter.cursor, ...(filter.scoped ? {} : filter.search) }
      return filter.scoped && filter.webhookId
        ? request('GET', `/webhooks/${seg(filter.webhookId)}/deliveries`, { query, signal })
        : request('GET', '/deliveries', { query: { ...query, webhook_id: filter.webhookId }, signal })
    },
    /** @param {string} id @param {AbortSignal} [signal] */
    getDelivery: (id, signal) => request('GET', `/deliveries/${seg(id)}`, { signal }),
    /** @param {string} id */
    retryDelivery: (id) => request('POST', `/deliveries/${seg(id)}/retry`),
    /** @param {string} eventId @param {AbortSignal} [signal] */
    getEvent: (eventId, signal) => request('GET', `/events/${seg(eventId)}`, { signal }),
    /** @param {AbortSignal} [signal] */
    stats: (signal) => request('GET', '/stats', { signal }),
    /** @param {string} id @param {string} window 1h, 24h or 7d @param {AbortSignal} [signal] */
    webhookStats: (id, window, signal) => request('GET', `/webhooks/${seg(id)}/stats`, { query: { window }, signal }),
  }
}

/** @typedef {ReturnType<typeof createApi>} Api */
