import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHarness, fieldPaths, PUBLIC_URL } from './harness.js'

interface OptionsJson {
  id: string
  signing_method: string
  ordering: string
  filter: Record<string, unknown> | null
  headers: Record<string, string> | null
  rate_limit_per_s: number | null
  secret?: string | null
}

test('ordering, filter, headers and rate_limit_per_s: set on create, read back everywhere, PATCH replaces, null clears', async () => {
  const h = await createHarness()
  try {
    const defaults = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })
    assert.equal(defaults.statusCode, 201, defaults.body)
    const plain = defaults.json<OptionsJson>()
    assert.deepEqual([plain.ordering, plain.filter, plain.headers, plain.rate_limit_per_s], ['none', null, null, null])

    const body = {
      url: PUBLIC_URL,
      events: ['call.ended', 'call.analyzed'],
      ordering: 'per_call',
      filter: { 'data.status': 'completed', 'data.call.score': { gte: 80 }, event: { in: ['call.ended', 'call.analyzed'] }, 'metadata.crm': { exists: true } },
      headers: { 'X-Tenant': 'acme', 'X-Api-Gateway-Key': 'k-123' },
      rate_limit_per_s: 20,
    }
    const res = await h.call('POST', '/api/v1/webhooks', body)
    assert.equal(res.statusCode, 201, res.body)
    const created = res.json<OptionsJson>()
    assert.equal(created.ordering, 'per_call')
    assert.deepEqual(created.filter, body.filter)
    assert.deepEqual(created.headers, body.headers)
    assert.equal(created.rate_limit_per_s, 20)
    const read = (await h.call('GET', `/api/v1/webhooks/${created.id}`)).json<OptionsJson>()
    assert.deepEqual({ ...read, secret: created.secret }, created)
    const listed = (await h.call('GET', '/api/v1/webhooks')).json<OptionsJson[]>().find((w) => w.id === created.id)
    assert.deepEqual(listed?.filter, body.filter)

    const patched = await h.call('PATCH', `/api/v1/webhooks/${created.id}`, { filter: { 'data.status': { in: ['completed', 'voicemail'] } }, headers: { 'X-Only': '1' } })
    assert.equal(patched.statusCode, 200, patched.body)
    const after = patched.json<OptionsJson>()
    assert.deepEqual(after.filter, { 'data.status': { in: ['completed', 'voicemail'] } }, 'replaced whole, not merged')
    assert.deepEqual(after.headers, { 'X-Only': '1' })
    assert.equal(after.ordering, 'per_call', 'untouched')

    const cleared = await h.call('PATCH', `/api/v1/webhooks/${created.id}`, { ordering: null, filter: null, headers: null, rate_limit_per_s: null })
    assert.equal(cleared.statusCode, 200, cleared.body)
    const none = cleared.json<OptionsJson>()
    assert.deepEqual([none.ordering, none.filter, none.headers, none.rate_limit_per_s], ['none', null, null, null])
  } finally {
    await h.close()
  }
})

test('a bad filter is a 422 that names its path', async () => {
  const h = await createHarness()
  try {
    const cases: Array<[unknown, string]> = [
      [{ 'data.call.score': { gte: 'high' } }, 'filter.data.call.score'],
      [{ 'data..status': 'x' }, 'filter.data..status'],
      [{ 'data.status': { equals: 'x' } }, 'filter.data.status'],
      [{ 'data.status': { in: [] } }, 'filter.data.status'],
      [{ 'data.status': { exists: 'yes' } }, 'filter.data.status'],
      [{ 'data.status': { gt: 1, lt: 5 } }, 'filter.data.status'],
    ]
    for (const [filter, path] of cases) {
      const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], filter })
      assert.equal(res.statusCode, 422, `${JSON.stringify(filter)}: ${res.body}`)
      assert.equal(res.json<{ code: string }>().code, 'VALIDATION')
      assert.ok(fieldPaths(res).includes(path), `${JSON.stringify(filter)} → ${fieldPaths(res).join(', ')}`)
    }
    const notObject = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], filter: ['data.status'] })
    assert.ok([400, 422].includes(notObject.statusCode), notObject.body)
    assert.ok(notObject.body.includes('filter'))
  } finally {
    await h.close()
  }
})

test('custom headers: forbidden names are refused whatever their case, as are bad names, CR/LF values and more than 20', async () => {
  const h = await createHarness()
  try {
    for (const name of ['Authorization', 'content-type', 'HOST', 'Content-Length', 'transfer-encoding', 'Connection', 'user-agent', 'X-Kejue-Signature', 'x-kejue-anything', 'Webhook-Signature', 'webhook-id', 'WEBHOOK-TIMESTAMP']) {
      const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], headers: { [name]: 'v' } })
      assert.equal(res.statusCode, 422, `${name}: ${res.body}`)
      assert.deepEqual(fieldPaths(res), [`headers.${name}`])
    }
    const bad = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], headers: { 'Bad Name': 'v', 'X-Ok': 'a\r\nX-Injected: 1' } })
    assert.equal(bad.statusCode, 422, bad.body)
    assert.deepEqual(fieldPaths(bad).sort(), ['headers.Bad Name', 'headers.X-Ok'])
    // A token, but one a JavaScript object would swallow: refused rather than stored and never sent.
    const proto = await h.call('POST', '/api/v1/webhooks', JSON.parse(`{"url":"${PUBLIC_URL}","events":["*"],"headers":{"__proto__":"x"}}`) as Record<string, unknown>)
    assert.equal(proto.statusCode, 422, proto.body)
    assert.deepEqual(fieldPaths(proto), ['headers.__proto__'])
    const twice = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], headers: { 'X-A': '1', 'x-a': '2' } })
    assert.equal(twice.statusCode, 422, twice.body)
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']))
    const tooMany = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], headers: many })
    assert.equal(tooMany.statusCode, 422, tooMany.body)
    assert.deepEqual(fieldPaths(tooMany), ['headers'])
    const twenty = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], headers: Object.fromEntries(Object.entries(many).slice(0, 20)) })
    assert.equal(twenty.statusCode, 201, twenty.body)
    const patch = await h.call('PATCH', `/api/v1/webhooks/${twenty.json<OptionsJson>().id}`, { headers: { Authorization: 'Bearer x' } })
    assert.equal(patch.statusCode, 422, patch.body)
  } finally {
    await h.close()
  }
})

test('rate_limit_per_s is 1–10000 and ordering is none or per_call', async () => {
  const h = await createHarness()
  try {
    for (const value of [0, 10_001, 2.5, '20']) {
      const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], rate_limit_per_s: value })
      assert.ok([400, 422].includes(res.statusCode), `${String(value)}: ${res.body}`)
      assert.ok(res.body.includes('rate_limit_per_s'), res.body)
    }
    const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], ordering: 'per_job' })
    assert.ok([400, 422].includes(res.statusCode), res.body)
    assert.ok(res.body.includes('ordering'), res.body)
  } finally {
    await h.close()
  }
})

test('standard_webhooks: a whsec_<base64> secret is generated or checked, and switching to or from an HMAC method needs a new one', async () => {
  const h = await createHarness()
  try {
    const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], signing_method: 'standard_webhooks' })
    assert.equal(res.statusCode, 201, res.body)
    const created = res.json<OptionsJson>()
    assert.equal(created.signing_method, 'standard_webhooks')
    assert.match(created.secret ?? '', /^whsec_[A-Za-z0-9+/]{32}$/)
    assert.equal(Buffer.from((created.secret ?? '').slice(6), 'base64').length, 24)

    const badSecret = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], signing_method: 'standard_webhooks', secret: 'whsec_not base64!' })
    assert.equal(badSecret.statusCode, 422, badSecret.body)
    assert.deepEqual(fieldPaths(badSecret), ['secret'])

    const toHmac = await h.call('PATCH', `/api/v1/webhooks/${created.id}`, { signing_method: 'hmac_sha256' })
    assert.equal(toHmac.statusCode, 422, toHmac.body)
    assert.deepEqual(fieldPaths(toHmac), ['secret'])
    const toHmacWithSecret = await h.call('PATCH', `/api/v1/webhooks/${created.id}`, { signing_method: 'hmac_sha256', secret: 'a-new-hmac-secret' })
    assert.equal(toHmacWithSecret.statusCode, 200, toHmacWithSecret.body)
    const back = await h.call('PATCH', `/api/v1/webhooks/${created.id}`, { signing_method: 'standard_webhooks' })
    assert.equal(back.statusCode, 422, back.body)
    const backWithSecret = await h.call('PATCH', `/api/v1/webhooks/${created.id}`, { signing_method: 'standard_webhooks', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
    assert.equal(backWithSecret.statusCode, 200, backWithSecret.body)
  } finally {
    await h.close()
  }
})

test('inline (per-call) webhooks take only the spec\'s fields', async () => {
  const h = await createHarness()
  try {
    for (const extra of [{ ordering: 'per_call' }, { filter: { 'data.status': 'completed' } }, { headers: { 'X-A': '1' } }, { rate_limit_per_s: 5 }]) {
      const res = await h.call('POST', '/api/v1/persona-calls', {
        persona_id: 'persona_1',
        contact: { name: 'Jo', phone: '+15550100' },
        config: { webhooks: [{ url: PUBLIC_URL, events: ['call.ended'], ...extra }] },
      })
      assert.ok([400, 422].includes(res.statusCode), `${JSON.stringify(extra)}: ${res.statusCode} ${res.body}`)
    }
  } finally {
    await h.close()
  }
})
