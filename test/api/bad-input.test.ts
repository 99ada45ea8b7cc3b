/**
 * Bad input gets a clear 4xx naming the field, never a 500 and never a silent change.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { samplePayload } from '../../src/events/samples.js'
import { createHarness, fieldPaths, PUBLIC_URL } from './harness.js'

test('impossible event timestamps are a 422 on `timestamp`, not a 500 or a rolled-over date', async () => {
  const h = await createHarness()
  try {
    for (const timestamp of ['9999-99-99T99:99:99Z', '2025-01-01T25:00:00Z', '2025-02-30T10:00:00Z']) {
      const res = await h.call('POST', '/api/v1/events', { event: 'call.ended', data: samplePayload('call.ended'), timestamp })
      assert.equal(res.statusCode, 422, `${timestamp}: ${res.body}`)
      assert.deepEqual(fieldPaths(res), ['timestamp'])
    }
    const page = await h.call('GET', '/api/v1/deliveries')
    assert.equal(page.json<{ data: unknown[] }>().data.length, 0, 'nothing was stored')
  } finally {
    await h.close()
  }
})

test('data or metadata nested thousands deep is a 422 naming the field, not a stack overflow', async () => {
  const h = await createHarness()
  try {
    const deep = `${'{"a":'.repeat(4_500)}1${'}'.repeat(4_500)}`
    const data = JSON.stringify(samplePayload('call.ended')).replace(/}$/, `,"extra":${deep}}`)
    for (const [field, payload] of [
      ['data', `{"event":"call.ended","data":${data}}`],
      ['metadata', `{"event":"call.ended","data":${JSON.stringify(samplePayload('call.ended'))},"metadata":${deep}}`],
    ] as const) {
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/events', headers: { 'x-api-key': h.a.key, 'content-type': 'application/json' }, payload })
      assert.equal(res.statusCode, 422, `${field}: ${res.body.slice(0, 300)}`)
      assert.deepEqual(fieldPaths(res), [field])
    }
  } finally {
    await h.close()
  }
})

test('webhook URLs the parser would repair (CR/LF, NUL, spaces, tabs, backslashes, http:///x) are a 422 on `url`', async () => {
  const h = await createHarness()
  try {
    for (const url of [`${PUBLIC_URL}\r\nX-Injected: 1`, `${PUBLIC_URL}\u0000`, 'https://93.184.216.34/a b', 'https://93.184.216.34/a\tb', 'http:///93.184.216.34/x', 'https:\\\\93.184.216.34\\x', ' https://93.184.216.34/x']) {
      const created = await h.call('POST', '/api/v1/webhooks', { url, events: ['*'] })
      assert.equal(created.statusCode, 422, `${JSON.stringify(url)}: ${created.body}`)
      assert.deepEqual(fieldPaths(created), ['url'], JSON.stringify(url))
    }
    const ok = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })
    assert.equal(ok.statusCode, 201, ok.body)
    const id = ok.json<{ id: string }>().id
    const patched = await h.call('PATCH', `/api/v1/webhooks/${id}`, { url: 'http:///93.184.216.34/x' })
    assert.equal(patched.statusCode, 422, patched.body)
    assert.deepEqual(fieldPaths(patched), ['url'])
    const inline = await h.call('POST', '/api/v1/persona-calls', { persona_id: 'per_1', contact_id: 'ct_1', config: { webhooks: [{ url: 'http:///x', events: ['call.ended'] }] } })
    assert.equal(inline.statusCode, 422, inline.body)
    assert.ok(fieldPaths(inline).includes('config.webhooks[0].url'), inline.body)
  } finally {
    await h.close()
  }
})

test('a body with several bad fields lists the URL problem with the others', async () => {
  const h = await createHarness()
  try {
    const res = await h.call('POST', '/api/v1/webhooks', { url: 'ftp://93.184.216.34/x', events: [], timeout_ms: 1 })
    assert.equal(res.statusCode, 422, res.body)
    assert.deepEqual(fieldPaths(res).sort(), ['events', 'timeout_ms', 'url'])
  } finally {
    await h.close()
  }
})

test('impossible times in search and recover (2026-11-31, 2026-02-30, T25:00) are a 422 naming the field, not rolled over', async () => {
  const h = await createHarness()
  try {
    for (const [field, value] of [['since', '2026-02-30T00:00:00Z'], ['until', '2026-11-31T01:00:00Z'], ['since', '2026-12-01T25:00:00Z']]) {
      const res = await h.call('GET', `/api/v1/deliveries?${field}=${value}`)
      assert.equal(res.statusCode, 422, `${field}=${value}: ${res.body}`)
      assert.deepEqual(fieldPaths(res), [field])
    }
    const hook = await h.call('POST', '/api/v1/webhooks', { url: `${PUBLIC_URL}/hook`, events: ['call.ended'] })
    assert.equal(hook.statusCode, 201, hook.body)
    const id = hook.json<{ id: string }>().id
    const res = await h.call('POST', `/api/v1/webhooks/${id}/recover`, { since: '2026-12-01T00:00:00Z', until: '2026-11-31T01:00:00Z', dry_run: true })
    assert.equal(res.statusCode, 422, res.body)
    assert.deepEqual(fieldPaths(res), ['until'])
  } finally {
    await h.close()
  }
})

test('query integers are decimal digits only: 1e1, 0x10, 1.5 and " 20" are a 422 on `limit`', async () => {
  const h = await createHarness()
  try {
    for (const limit of ['1e1', '0x10', '1.5', '%2020', '']) {
      const res = await h.call('GET', `/api/v1/deliveries?limit=${limit}`)
      assert.equal(res.statusCode, 422, `${limit}: ${res.body}`)
      assert.deepEqual(fieldPaths(res), ['limit'], limit)
    }
    assert.equal((await h.call('GET', '/api/v1/deliveries?limit=10')).statusCode, 200)
  } finally {
    await h.close()
  }
})

test('campaign.started/paused/resumed/failed with only campaign_id (and a status we did not foresee) are accepted, not lost to a 422', async () => {
  const h = await createHarness()
  try {
    for (const event of ['campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.failed']) {
      const res = await h.call('POST', '/api/v1/events', { event, data: { campaign_id: 'camp_1', status: 'throttled', vendor_field: 1 } })
      assert.equal(res.statusCode, 202, `${event}: ${res.body}`)
    }
    const missing = await h.call('POST', '/api/v1/events', { event: 'campaign.paused', data: { campaign_name: 'Q1' } })
    assert.equal(missing.statusCode, 422, missing.body)
    assert.deepEqual(fieldPaths(missing), ['data.campaign_id'])
  } finally {
    await h.close()
  }
})

/** Sends raw bytes to a listening app and returns the status line and the JSON body. */
async function rawRequest (port: number, request: string | Buffer): Promise<{ status: number, body: { error?: unknown, code?: unknown, details?: unknown } }> {
  const text = await new Promise<string>((resolve, reject) => {
    let out = ''
    const socket = connect(port, '127.0.0.1', () => { socket.end(request) })
    socket.on('data', (chunk: Buffer) => { out += chunk.toString() })
    socket.on('close', () => { resolve(out) })
    socket.on('error', reject)
  })
  const [head = '', body = ''] = text.split('\r\n\r\n')
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) as { error?: unknown, code?: unknown, details?: unknown } }
}

test('what fastify and Node refuse themselves (bad % escape, a 10k-char id, a 100 kB query, a cut body) leaves as {error, code, details}', async () => {
  const h = await createHarness()
  try {
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = h.app.server.address() as AddressInfo
    const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${h.a.key}\r\nConnection: close\r\n\r\n`
    const cases: Array<[string, string, number, string]> = [
      ['bad escape', get('/api/v1/deliveries/%zz'), 400, 'BAD_REQUEST'],
      ['10k-char id', get(`/api/v1/deliveries/${'a'.repeat(10_000)}`), 400, 'BAD_REQUEST'],
      ['100 kB query string', get(`/api/v1/deliveries?x=${'a'.repeat(100_000)}`), 431, 'HEADERS_TOO_LARGE'],
      ['body shorter than Content-Length', `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${h.a.key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"event":`, 400, 'BAD_REQUEST'],
    ]
    for (const [name, request, status, code] of cases) {
      const res = await rawRequest(port, request)
      assert.equal(res.status, status, name)
      assert.equal(res.body.code, code, name)
      assert.equal(typeof res.body.error, 'string', name)
      assert.deepEqual(res.body.details, {}, name)
    }
  } finally {
    await h.close()
  }
})

test('a body that is not valid UTF-8 is a 400, never stored with U+FFFD in its place', async () => {
  const h = await createHarness()
  try {
    const payload = Buffer.concat([Buffer.from(`{"url":"${PUBLIC_URL}/`), Buffer.from([0xff, 0xfe]), Buffer.from('","events":["*"]}')])
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { 'x-api-key': h.a.key, 'content-type': 'application/json' }, payload })
    assert.equal(res.statusCode, 400, res.body)
    assert.equal(res.json<{ code: string }>().code, 'BAD_REQUEST')
    assert.match(res.json<{ error: string }>().error, /UTF-8/)
    assert.deepEqual((await h.call('GET', '/api/v1/webhooks')).json(), [])
  } finally {
    await h.close()
  }
})
