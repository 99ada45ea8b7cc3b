// DOM and formatting helpers. Everything is built with createElement/textContent, never innerHTML:
// response excerpts, URLs and payloads come from outside and must not become markup.

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attrs
 */

/**
 * Makes an element. Attributes starting with `on` become listeners; `false`/null/undefined values
 * are skipped; `true` sets a boolean attribute.
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value)
    } else if (value === true) {
      el.setAttribute(name, '')
    } else {
      el.setAttribute(name, String(value))
    }
  }
  append(el, children)
  return el
}

/**
 * @param {Element} parent
 * @param {Array<Child | Child[]>} children
 */
export function append (parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.append(typeof child === 'object' ? child : String(child))
  }
}

/**
 * Replaces an element's content.
 * @param {Element} parent
 * @param {...(Child | Child[])} children
 */
export function replace (parent, ...children) {
  parent.replaceChildren()
  append(parent, children)
}

/** The browser's time zone as a short name ("UTC", "CET", "GMT+2"). @param {Date} date */
export function zoneName (date) {
  try {
    const part = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')
    return part ? part.value : 'local time'
  } catch {
    return 'local time'
  }
}

/** Local time with milliseconds and the zone: "2026-03-04 10:17:30.123 CET". @param {string} iso */
export function formatTime (iso) {
  if (!iso) return '—'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const pad = (/** @type {number} */ n, w = 2) => String(n).padStart(w, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)} ${zoneName(date)}`
}

/**
 * "3 s ago", "in 2 s": how far `iso` is from now.
 * @param {string} iso
 * @param {number} [nowMs]
 */
export function formatRelative (iso, nowMs = Date.now()) {
  const ms = new Date(iso).getTime() - nowMs
  if (Number.isNaN(ms)) return ''
  const abs = Math.abs(ms)
  let text
  if (abs < 1000) return ms >= 0 ? 'now' : 'just now'
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`
  else if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`
  else if (abs < 86_400_000) text = `${Math.round(abs / 3_600_000)} h`
  else text = `${Math.round(abs / 86_400_000)} d`
  return ms >= 0 ? `in ${text}` : `${text} ago`
}

/**
 * A time element: how long ago ("3 min ago") and the absolute local time with its zone; the UTC
 * ISO value in the tooltip.
 * @param {string | null | undefined} iso
 */
export function time (iso) {
  if (!iso) return h('span', { class: 'muted' }, '—')
  return h('time', { datetime: iso, title: `${iso} (UTC)` },
    h('span', { class: 'rel' }, formatRelative(iso)), ' ', h('span', { class: 'abs' }, formatTime(iso)))
}

/** @param {number | null | undefined} ms */
export function formatDuration (ms) {
  if (ms === null || ms === undefined) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}

/**
 * success_rate is a percent (0–100, one decimal) of finished deliveries, null before any finished.
 * @param {number | null | undefined} rate
 */
export function formatRate (rate) {
  if (rate === null || rate === undefined) return '—'
  return `${Number.isInteger(rate) ? rate : rate.toFixed(1)} %`
}

/** @param {string} status */
export function statusBadge (status) {
  return h('span', { class: `badge badge-${status}`, 'data-status': status }, status)
}

/**
 * The outcome of an attempt in a few words: "200", "503", or the error.
 * @param {{status_code: number | null, error: string | null}} attempt
 */
export function attemptOutcome (attempt) {
  if (attempt.status_code !== null && attempt.status_code !== undefined) {
    const ok = attempt.status_code >= 200 && attempt.status_code < 300
    // Errors such as "server responded 503" only restate the code; show the ones that add to it.
    const extra = attempt.error && !attempt.error.includes(String(attempt.status_code)) ? attempt.error : null
    return h('span', { class: ok ? 'code ok' : 'code bad' }, String(attempt.status_code),
      extra ? h('span', { class: 'muted' }, ` ${extra}`) : null)
  }
  return h('span', { class: 'code bad' }, attempt.error || 'no response')
}

/**
 * A page heading with optional actions at the right.
 * @param {string} title
 * @param {...Child} actions
 */
export function pageHeader (title, ...actions) {
  return h('div', { class: 'page-header' }, h('h1', {}, title), h('div', { class: 'actions' }, ...actions))
}

/**
 * A notice box; kind is 'error', 'info' or 'success'.
 * @param {string} kind
 * @param {...Child} children
 */
export function notice (kind, ...children) {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children)
}

/**
 * A table. On narrow screens (docs/dashboard.md) each row becomes a card and each cell shows its
 * column's heading (data-label), so nothing scrolls sideways.
 * @param {string[]} headings
 * @param {HTMLElement[]} rows
 * @param {string} [testId]
 */
export function table (headings, rows, testId) {
  for (const row of rows) labelCells(row, headings)
  return h('div', { class: 'table-wrap' },
    h('table', { 'data-testid': testId },
      h('thead', {}, h('tr', {}, headings.map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, rows)))
}

/** @param {unknown} value */
export function prettyJson (value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2))
}

/**
 * Shortens a long id or URL for a table cell; the full value stays in the tooltip.
 * @param {string} text
 * @param {number} [max]
 */
export function truncate (text, max = 48) {
  if (text.length <= max) return h('span', {}, text)
  return h('span', { title: text }, `${text.slice(0, max - 1)}…`)
}

/**
 * Gives each cell of a row its column heading, for the narrow-screen layout.
 * @param {HTMLElement} row
 * @param {string[]} headings
 */
export function labelCells (row, headings) {
  let i = 0
  for (const cell of Array.from(row.children)) {
    const span = Number(cell.getAttribute('colspan') ?? 1)
    if (!cell.hasAttribute('data-label') && span === 1) cell.setAttribute('data-label', headings[i] ?? '')
    i += span
  }
}

/** @param {string} tag SVG element name @param {Record<string, string | number>} [attrs] @param {...Node} children */
export function svg (tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value))
  el.append(...children)
  return el
}
