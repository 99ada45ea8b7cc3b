import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHarness, fieldPaths, PUBLIC_URL } from './harness.js'

interface WebhookJson {
  id: string
  url: string
  events: string[]
  name: string | null
  signing_method: string
  scope_type: string
  persona_id: string | null
  enabled: boolean
  delivery_settings: { timeout_ms: number, max_retries: number, backoff_ms: number }
  stats: { total_deliveries: number, failed_deliveries: number, success_rate: number | null }
  secret?: string | null
  created_at: string
  updated_at: string
}

test('creating a webhook applies the defaults and shows a generated secret once', async () => {
  const h = await createHarness()
  try {
    const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['call.ended', 'call.ended', 'call.analyzed'] })
    assert.equal(res.statusCode, 201, res.body)
    const created = res.json<WebhookJson>()
    assert.match(created.id, /^wh_/)
    assert.deepEqual(created.events, ['call.ended', 'call.analyzed'])
    assert.equal(created.signing_method, 'hmac_sha256')
    assert.equal(created.scope_type, 'global')
    assert.equal(created.persona_id, null)
    assert.equal(created.enabled, true)
    assert.equal(created.name, null)
    assert.deepEqual(created.delivery_settings, { timeout_ms: 5000, max_retries: 3, backoff_ms: 500 })
    assert.deepEqual(created.stats, { total_deliveries: 0, failed_deliveries: 0, success_rate: null, parked_deliveries: 0 })
    assert.match(created.secret ?? '', /^whsec_[A-Za-z0-9_-]{20,}$/)

    const read = await h.call('GET', `/api/v1/webhooks/${created.id}`)
    assert.equal(read.statusCode, 200)
    assert.ok(!('secret' in read.json<object>()))
    assert.ok(!read.body.includes(created.secret ?? 'x'))
    const list = await h.call('GET', '/api/v1/webhooks')
    assert.ok(Array.isArray(list.json()), 'GET /webhooks is a bare array')
    assert.ok(!list.body.includes(created.secret ?? 'x'))
    const patched = await h.call('PATCH', `/api/v1/webhooks/${created.id}`, { name: 'renamed' })
    assert.ok(!patched.body.includes(created.secret ?? 'x'))
  } finally {
    await h.close()
  }
})

test('every field can be set at create, flat or under delivery_settings', async () => {
  const h = await createHarness()
  try {
    const res = await h.call('POST', '/api/v1/webhooks', {
      url: PUBLIC_URL,
      events: ['*'],
      name: 'CRM',
      signing_method: 'bearer',
      secret: 'my-token',
      scope_type: 'persona',
      persona_id: 'per_abc',
      timeout_ms: 1000,
      delivery_settings: { max_retries: 0, backoff_ms: 100 },
      enabled: false,
    })
    assert.equal(res.statusCode, 201, res.body)
    const w = res.json<WebhookJson>()
    assert.equal(w.name, 'CRM')
    assert.equal(w.signing_method, 'bearer')
    assert.equal(w.secret, 'my-token')
    assert.equal(w.scope_type, 'persona')
    assert.equal(w.persona_id, 'per_abc')
    assert.equal(w.enabled, false)
    assert.deepEqual(w.delivery_settings, { timeout_ms: 1000, max_retries: 0, backoff_ms: 100 })

    const none = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['campaign.ended'], signing_method: 'none' })
    assert.equal(none.statusCode, 201)
    assert.equal(none.json<WebhookJson>().secret, null)
    const basic = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['campaign.ended'], signing_method: 'basic_auth', secret: 'user:pa:ss' })
    assert.equal(basic.statusCode, 201)
  } finally {
    await h.close()
  }
})

test('bad URLs are refused with 422 naming the url field', async () => {
  const h = await createHarness()
  try {
    const cases: Array<[string, string]> = [
      ['ftp://example.com/x', 'VALIDATION'],
      ['example.com/hook', 'VALIDATION'],
      ['https://user:pass@93.184.216.34/hook', 'VALIDATION'],
      [`https://93.184.216.34/${'a'.repeat(2100)}`, 'VALIDATION'],
      ['', 'VALIDATION'],
      ['http://127.0.0.1:9000/hook', 'DESTINATION_NOT_ALLOWED'],
      ['http://localhost/hook', 'DESTINATION_NOT_ALLOWED'],
      ['http://2130706433/hook', 'DESTINATION_NOT_ALLOWED'],
      ['http://[::1]/hook', 'DESTINATION_NOT_ALLOWED'],
      ['http://10.1.2.3/hook', 'DESTINATION_NOT_ALLOWED'],
      ['http://169.254.169.254/latest/meta-data', 'DESTINATION_NOT_ALLOWED'],
    ]
    for (const [url, code] of cases) {
      const res = await h.call('POST', '/api/v1/webhooks', { url, events: ['call.ended'] })
      assert.equal(res.statusCode, 422, `${url}: ${res.body}`)
      const body = res.json<{ code: string, error: string }>()
      assert.equal(body.code, code, url)
      assert.deepEqual(fieldPaths(res), ['url'], url)
      // …and says how a developer receiving on their own machine gets past it.
      if (code === 'DESTINATION_NOT_ALLOWED') assert.match(body.error, /not allowed.*KEJUE_ALLOW_PRIVATE_NETWORKS=true/)
    }
    const first = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['call.ended'] })
    const id = first.json<WebhookJson>().id
    const patch = await h.call('PATCH', `/api/v1/webhooks/${id}`, { url: 'http://localhost:8080/' })
    assert.equal(patch.statusCode, 422)
    assert.equal(patch.json<{ code: string }>().code, 'DESTINATION_NOT_ALLOWED')
    const after = await h.call('GET', `/api/v1/webhooks/${id}`)
    assert.equal(after.json<WebhookJson>().url, PUBLIC_URL, 'a refused update changes nothing')
  } finally {
    await h.close()
  }
})

test('with private networks allowed, loopback URLs are accepted', async () => {
  const h = await createHarness({ allowPrivateNetworks: true })
  try {
    const res = await h.call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9000/hook', events: ['call.ended'] })
    assert.equal(res.statusCode, 201, res.body)
    const ftp = await h.call('POST', '/api/v1/webhooks', { url: 'ftp://127.0.0.1/x', events: ['call.ended'] })
    assert.equal(ftp.statusCode, 422, 'the scheme is still checked')
  } finally {
    await h.close()
  }
})

test('bad fields are refused with 422 and each field is named', async () => {
  const h = await createHarness()
  try {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ events: ['call.ended'] }, ['url']],
      [{ url: PUBLIC_URL }, ['events']],
      [{ url: PUBLIC_URL, events: [] }, ['events']],
      [{ url: PUBLIC_URL, events: ['call.exploded'] }, ['events[0]']],
      [{ url: PUBLIC_URL, events: ['call.ended', 'nope'] }, ['events[1]']],
      [{ url: PUBLIC_URL, events: 'call.ended' }, ['events']],
      [{ url: 42, events: ['call.ended'] }, ['url']],
      [{ url: PUBLIC_URL, events: ['*'], timeout_ms: 999 }, ['timeout_ms']],
      [{ url: PUBLIC_URL, events: ['*'], timeout_ms: 30_001 }, ['timeout_ms']],
      [{ url: PUBLIC_URL, events: ['*'], timeout_ms: '5000' }, ['timeout_ms']],
      [{ url: PUBLIC_URL, events: ['*'], max_retries: 11 }, ['max_retries']],
      [{ url: PUBLIC_URL, events: ['*'], max_retries: -1 }, ['max_retries']],
      [{ url: PUBLIC_URL, events: ['*'], max_retries: 1.5 }, ['max_retries']],
      [{ url: PUBLIC_URL, events: ['*'], backoff_ms: 50 }, ['backoff_ms']],
      [{ url: PUBLIC_URL, events: ['*'], delivery_settings: { timeout_ms: 50_000 } }, ['delivery_settings.timeout_ms']],
      [{ url: PUBLIC_URL, events: ['*'], timeout_ms: 2000, delivery_settings: { timeout_ms: 3000 } }, ['delivery_settings.timeout_ms']],
      [{ url: PUBLIC_URL, events: ['*'], signing_method: 'md5' }, ['signing_method']],
      [{ url: PUBLIC_URL, events: ['*'], signing_method: 'basic_auth' }, ['secret']],
      [{ url: PUBLIC_URL, events: ['*'], signing_method: 'basic_auth', secret: 'nocolon' }, ['secret']],
      [{ url: PUBLIC_URL, events: ['*'], signing_method: 'none', secret: 'x' }, ['secret']],
      [{ url: PUBLIC_URL, events: ['*'], secret: '' }, ['secret']],
      [{ url: PUBLIC_URL, events: ['*'], secret: 'line\nbreak' }, ['secret']],
      [{ url: PUBLIC_URL, events: ['*'], scope_type: 'persona' }, ['persona_id']],
      [{ url: PUBLIC_URL, events: ['*'], scope_type: 'team' }, ['scope_type']],
      [{ url: PUBLIC_URL, events: ['*'], persona_id: 'per_abc' }, ['persona_id']],
      [{ url: PUBLIC_URL, events: ['*'], enabled: 'yes' }, ['enabled']],
      [{ url: PUBLIC_URL, events: ['*'], colour: 'blue' }, ['colour']],
      [{ url: 1, events: 2, timeout_ms: 'x' }, ['url', 'events', 'timeout_ms']],
    ]
    for (const [body, paths] of cases) {
      const res = await h.call('POST', '/api/v1/webhooks', body)
      assert.equal(res.statusCode, 422, `${JSON.stringify(body)}: ${res.body}`)
      const json = res.json<{ code: string, error: string, details: { fields: Array<{ path: string, message: string }> } }>()
      assert.equal(json.code, 'VALIDATION')
      assert.deepEqual(fieldPaths(res).sort(), [...paths].sort(), JSON.stringify(body))
      for (const f of json.details.fields) assert.ok(f.message.length > 3, f.path)
      assert.ok(!res.body.includes('line\nbreak'), 'a secret is never echoed')
    }
    const range = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], timeout_ms: 10 })
    assert.match(range.json<{ details: { fields: Array<{ message: string }> } }>().details.fields[0]?.message ?? '', /1000.*30000/)
    const unknownType = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['call.exploded'] })
    assert.match(unknownType.body, /call\.ended/, 'the message lists the valid types')
  } finally {
    await h.close()
  }
})

test('malformed bodies: 400 for bad JSON or a non-object, 415 for other types, 413 over 1 MiB', async () => {
  const h = await createHarness()
  try {
    const headers = { 'x-api-key': h.a.key, 'content-type': 'application/json' }
    const bad = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers, payload: '{"url": ' })
    assert.equal(bad.statusCode, 400)
    assert.deepEqual(bad.json(), { error: 'the body is not valid JSON', code: 'BAD_REQUEST', details: {} })
    for (const payload of ['[]', '"text"', '42', 'null', '']) {
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers, payload })
      assert.equal(res.statusCode, 400, payload)
      assert.equal(res.json<{ code: string }>().code, 'BAD_REQUEST')
    }
    const text = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { 'x-api-key': h.a.key, 'content-type': 'text/plain' }, payload: 'hello' })
    assert.equal(text.statusCode, 415)
    assert.equal(text.json<{ code: string }>().code, 'UNSUPPORTED_MEDIA_TYPE')
    const form = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { 'x-api-key': h.a.key, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'url=x' })
    assert.equal(form.statusCode, 415)
    const big = JSON.stringify({ url: PUBLIC_URL, events: ['*'], name: 'x'.repeat(1024 * 1024) })
    const large = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers, payload: big })
    assert.equal(large.statusCode, 413)
    assert.equal(large.json<{ code: string }>().code, 'PAYLOAD_TOO_LARGE')
    const health = await h.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(health.statusCode, 200)
  } finally {
    await h.close()
  }
})

test('list, filter by event, read, update and delete', async () => {
  const h = await createHarness()
  try {
    const mk = async (events: string[]): Promise<WebhookJson> => (await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events })).json<WebhookJson>()
    const ended = await mk(['call.ended'])
    const all = await mk(['*'])
    const campaign = await mk(['campaign.ended'])
    const list = (await h.call('GET', '/api/v1/webhooks')).json<WebhookJson[]>()
    assert.deepEqual(list.map((w) => w.id), [ended.id, all.id, campaign.id])
    const filtered = (await h.call('GET', '/api/v1/webhooks?event=call.ended')).json<WebhookJson[]>()
    assert.deepEqual(filtered.map((w) => w.id).sort(), [ended.id, all.id].sort())
    const star = (await h.call('GET', '/api/v1/webhooks?event=*')).json<WebhookJson[]>()
    assert.deepEqual(star.map((w) => w.id), [all.id])
    const badFilter = await h.call('GET', '/api/v1/webhooks?event=nope')
    assert.equal(badFilter.statusCode, 422)
    assert.deepEqual(fieldPaths(badFilter), ['event'])

    const patched = await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { events: ['call.started'], enabled: false, max_retries: 10, name: 'n' })
    assert.equal(patched.statusCode, 200, patched.body)
    const p = patched.json<WebhookJson>()
    assert.deepEqual(p.events, ['call.started'])
    assert.equal(p.enabled, false)
    assert.equal(p.name, 'n')
    assert.deepEqual(p.delivery_settings, { timeout_ms: 5000, max_retries: 10, backoff_ms: 500 })
    assert.ok(p.updated_at >= p.created_at)

    const badPatch = await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { events: [], max_retries: 99 })
    assert.equal(badPatch.statusCode, 422)
    assert.deepEqual(fieldPaths(badPatch).sort(), ['events', 'max_retries'])
    const persona = await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { scope_type: 'persona' })
    assert.deepEqual(fieldPaths(persona), ['persona_id'])
    const scoped = await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { scope_type: 'persona', persona_id: 'per_1' })
    assert.equal(scoped.json<WebhookJson>().persona_id, 'per_1')
    const unscoped = await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { scope_type: 'global' })
    assert.equal(unscoped.statusCode, 200, unscoped.body)
    assert.equal(unscoped.json<WebhookJson>().persona_id, null)
    const toNone = await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { signing_method: 'none' })
    assert.equal(toNone.json<WebhookJson>().signing_method, 'none')
    const backToHmac = await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { signing_method: 'hmac_sha1' })
    assert.deepEqual(fieldPaths(backToHmac), ['secret'], 'switching from none needs a secret')

    const del = await h.call('DELETE', `/api/v1/webhooks/${ended.id}`)
    assert.equal(del.statusCode, 204)
    assert.equal(del.body, '')
    assert.equal((await h.call('GET', `/api/v1/webhooks/${ended.id}`)).statusCode, 404)
    assert.equal((await h.call('DELETE', `/api/v1/webhooks/${ended.id}`)).statusCode, 404)
    assert.equal((await h.call('PATCH', `/api/v1/webhooks/${ended.id}`, { name: 'x' })).statusCode, 404)
  } finally {
    await h.close()
  }
})

test('rotating a secret shows the new one once; none has no secret to rotate', async () => {
  const h = await createHarness()
  try {
    const created = (await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })).json<WebhookJson>()
    const rotated = await h.call('POST', `/api/v1/webhooks/${created.id}/rotate-secret`)
    assert.equal(rotated.statusCode, 200, rotated.body)
    const secret = rotated.json<WebhookJson>().secret
    assert.match(secret ?? '', /^whsec_/)
    assert.notEqual(secret, created.secret)
    const given = await h.call('POST', `/api/v1/webhooks/${created.id}/rotate-secret`, { secret: 'chosen-secret' })
    assert.equal(given.json<WebhookJson>().secret, 'chosen-secret')
    const none = (await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], signing_method: 'none' })).json<WebhookJson>()
    const conflict = await h.call('POST', `/api/v1/webhooks/${none.id}/rotate-secret`)
    assert.equal(conflict.statusCode, 409)
    assert.equal(conflict.json<{ code: string }>().code, 'CONFLICT')
  } finally {
    await h.close()
  }
})

test('a workspace never sees another workspace\'s webhooks: 404, not 403', async () => {
  const h = await createHarness()
  try {
    const mine = (await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })).json<WebhookJson>()
    const theirs = (await h.call('GET', '/api/v1/webhooks', undefined, h.b.key)).json<WebhookJson[]>()
    assert.deepEqual(theirs, [])
    for (const [method, url, body] of [
      ['GET', `/api/v1/webhooks/${mine.id}`, undefined],
      ['PATCH', `/api/v1/webhooks/${mine.id}`, { name: 'stolen' }],
      ['DELETE', `/api/v1/webhooks/${mine.id}`, undefined],
      ['POST', `/api/v1/webhooks/${mine.id}/rotate-secret`, undefined],
      ['POST', `/api/v1/webhooks/${mine.id}/test`, undefined],
      ['GET', `/api/v1/webhooks/${mine.id}/deliveries`, undefined],
    ] as const) {
      const res = await h.call(method, url, body, h.b.key)
      assert.equal(res.statusCode, 404, `${method} ${url}`)
      assert.equal(res.json<{ code: string }>().code, 'NOT_FOUND')
    }
    assert.equal((await h.call('GET', `/api/v1/webhooks/${mine.id}`)).json<WebhookJson>().name, null)
    assert.equal((await h.call('GET', '/api/v1/webhooks/wh_unknown')).statusCode, 404)
  } finally {
    await h.close()
  }
})
