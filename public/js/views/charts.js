// A webhook's charts (its page): attempts per bucket (succeeded / failed), success rate, and p50 /
// p95 latency, from GET /webhooks/{id}/stats. Hand-drawn SVG: no library, nothing from a CDN,
// attributes only (the page's CSP allows no inline styles).

import { h, replace, notice, svg, formatDuration } from '../dom.js'

export const WINDOWS = [['1h', 'Last hour'], ['24h', 'Last 24 h'], ['7d', 'Last 7 days']]

const W = 600
const H = 150
const PAD = { left: 44, right: 8, top: 10, bottom: 22 }

/**
 * @param {import('../main.js').ViewContext} ctx
 * @param {string} webhookId
 * @param {string} window
 * @param {(window: string) => string} hashFor
 */
export async function chartsSection (ctx, webhookId, window, hashFor) {
  const section = h('section', { class: 'card charts', 'data-testid': 'charts' })
  const tabs = h('div', { class: 'tabs', role: 'tablist' }, WINDOWS.map(([value, label]) =>
    h('a', { href: hashFor(value), role: 'tab', class: value === window ? 'active' : '', 'aria-selected': value === window ? 'true' : 'false', 'data-window': value }, label)))
  let stats
  try {
    stats = await ctx.api.webhookStats(webhookId, window, ctx.signal)
  } catch (err) {
    replace(section, h('h2', {}, 'Activity'), notice('error', `Could not load the charts: ${err instanceof Error ? err.message : String(err)}`))
    return section
  }
  const buckets = /** @type {Array<{start: string, succeeded: number, failed: number, p50_ms: number | null, p95_ms: number | null}>} */ (stats.buckets)
  const total = buckets.reduce((sum, b) => sum + b.succeeded + b.failed, 0)
  const ok = buckets.reduce((sum, b) => sum + b.succeeded, 0)
  replace(section,
    h('div', { class: 'section-header' }, h('h2', {}, 'Activity'), tabs),
    total === 0
      ? h('div', { class: 'empty', 'data-testid': 'charts-empty' }, `No attempts in this window. Send a test event, or pick a longer window.`)
      : h('div', { class: 'chart-grid' },
        chart('Attempts', `${total} (${total - ok} failed)`, volume(buckets), 'chart-volume'),
        chart('Success rate', `${Math.round((ok / total) * 1000) / 10} %`, rate(buckets), 'chart-success'),
        chart('Latency', 'p50 and p95', latency(buckets), 'chart-latency')),
    h('p', { class: 'muted small' }, `Buckets of ${stats.bucket}, aligned to UTC; times on the axis are local.`))
  return section
}

/**
 * @param {string} title
 * @param {string} figure
 * @param {SVGElement} drawing
 * @param {string} testId
 */
function chart (title, figure, drawing, testId) {
  return h('figure', { class: 'chart', 'data-testid': testId }, h('figcaption', {}, h('strong', {}, title), ' ', h('span', { class: 'muted' }, figure)), drawing)
}

/** @param {number} i @param {number} n */
const xOf = (i, n) => PAD.left + ((W - PAD.left - PAD.right) * i) / Math.max(1, n)
/** @param {number} v @param {number} max */
const yOf = (v, max) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / (max || 1))

/** @param {string} label @param {number} max @param {(v: number) => string} format @param {Array<{start: string}>} buckets */
function frame (label, max, format, buckets) {
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-label': label, preserveAspectRatio: 'none' })
  for (const v of [0, max / 2, max]) {
    const y = yOf(v, max)
    el.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }),
      svg('text', { x: PAD.left - 4, y: y + 4, 'text-anchor': 'end', class: 'axis' }, document.createTextNode(format(v))))
  }
  const n = buckets.length
  const step = Math.max(1, Math.ceil(n / 6))
  const size = n > 1 ? Date.parse(buckets[1]?.start ?? '') - Date.parse(buckets[0]?.start ?? '') : 0
  const pad = (/** @type {number} */ v) => String(v).padStart(2, '0')
  for (let i = 0; i < n; i += step) {
    const d = new Date(buckets[i]?.start ?? '')
    const text = size >= 86_400_000 ? `${d.getMonth() + 1}/${d.getDate()}` : `${pad(d.getHours())}:${pad(d.getMinutes())}`
    el.append(svg('text', { x: xOf(i, n), y: H - 6, class: 'axis' }, document.createTextNode(text)))
  }
  return el
}

/** @param {Array<{start: string, succeeded: number, failed: number}>} buckets */
function volume (buckets) {
  const max = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed))
  const el = frame('Attempts per bucket', max, (v) => String(Math.round(v)), buckets)
  const n = buckets.length
  const width = Math.max(1, (W - PAD.left - PAD.right) / n - 1)
  buckets.forEach((b, i) => {
    const x = xOf(i, n)
    const okTop = yOf(b.succeeded, max)
    const allTop = yOf(b.succeeded + b.failed, max)
    const base = yOf(0, max)
    const title = svg('title', {}, document.createTextNode(`${new Date(b.start).toLocaleString()}: ${b.succeeded} succeeded, ${b.failed} failed`))
    if (b.succeeded) el.append(svg('rect', { x, y: okTop, width, height: base - okTop, class: 'bar-ok' }, title.cloneNode(true)))
    if (b.failed) el.append(svg('rect', { x, y: allTop, width, height: okTop - allTop, class: 'bar-bad' }, title))
  })
  return el
}

/** @param {Array<{start: string, succeeded: number, failed: number}>} buckets */
function rate (buckets) {
  const el = frame('Success rate per bucket', 100, (v) => `${Math.round(v)}%`, buckets)
  const n = buckets.length
  const points = buckets.map((b, i) => b.succeeded + b.failed === 0 ? null : [xOf(i + 0.5, n), yOf((100 * b.succeeded) / (b.succeeded + b.failed), 100)])
  appendLine(el, points, 'line-rate')
  return el
}

/** @param {Array<{start: string, p50_ms: number | null, p95_ms: number | null}>} buckets */
function latency (buckets) {
  const max = Math.max(1, ...buckets.map((b) => b.p95_ms ?? 0))
  const el = frame('Latency per bucket: p50 and p95', max, (v) => formatDuration(v), buckets)
  const n = buckets.length
  appendLine(el, buckets.map((b, i) => b.p95_ms === null ? null : [xOf(i + 0.5, n), yOf(b.p95_ms, max)]), 'line-p95')
  appendLine(el, buckets.map((b, i) => b.p50_ms === null ? null : [xOf(i + 0.5, n), yOf(b.p50_ms, max)]), 'line-p50')
  return el
}

/**
 * A polyline through the points, broken where a bucket is empty; lone points get a dot.
 * @param {SVGElement} el
 * @param {Array<number[] | null>} points
 * @param {string} cls
 */
function appendLine (el, points, cls) {
  /** @type {number[][]} */
  let run = []
  const flush = () => {
    if (run.length === 1) el.append(svg('circle', { cx: run[0]?.[0] ?? 0, cy: run[0]?.[1] ?? 0, r: 3, class: `${cls} dot` }))
    else if (run.length > 1) el.append(svg('polyline', { points: run.map((p) => p.join(',')).join(' '), class: cls }))
    run = []
  }
  for (const p of points) {
    if (p === null) flush()
    else run.push(p)
  }
  flush()
}
