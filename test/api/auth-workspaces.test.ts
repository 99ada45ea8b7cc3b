import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../src/api/app.js'
import { hashKey, makeApiKey } from '../../src/api/auth.js'
import { resolveConfig } from '../../src/config/load.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { createLogger } from '../../src/util/logger.js'
import { samplePayload } from '../../src/events/samples.js'
import { createHarness, PUBLIC_URL } from './harness.js'

test('every /api/v1 route needs a valid key: 401 without one or with a wrong one', async () => {
  const h = await createHarness()
  try {
    const routes: Array<[ 'GET' | 'POST' | 'PATCH' | 'DELETE', string ]> = [
      ['GET', '/api/v1/webhooks'], ['POST', '/api/v1/webhooks'], ['GET', '/api/v1/webhooks/wh_x'],
      ['PATCH', '/api/v1/webhooks/wh_x'], ['DELETE', '/api/v1/webhooks/wh_x'], ['POST', '/api/v1/webhooks/wh_x/test'],
      ['POST', '/api/v1/webhooks/wh_x/rotate-secret'], ['GET', '/api/v1/webhooks/wh_x/deliveries'],
      ['GET', '/api/v1/deliveries'], ['GET', '/api/v1/deliveries/dlv_x'], ['POST', '/api/v1/deliveries/dlv_x/retry'],
      ['POST', '/api/v1/events'], ['GET', '/api/v1/events/evt_x'], ['POST', '/api/v1/persona-calls'],
      ['POST', '/api/v1/workspaces'], ['GET', '/api/v1/workspaces'], ['GET', '/api/v1/workspaces/ws_x'],
      ['GET', '/api/v1/workspaces/ws_x/keys'], ['POST', '/api/v1/workspaces/ws_x/keys'], ['DELETE', '/api/v1/workspaces/ws_x/keys/key_x'],
    ]
    for (const [method, url] of routes) {
      for (const key of [null, 'kw_wrong', h.a.key.slice(0, -1), 'x'.repeat(10_000)]) {
        const res = await h.call(method, url, method === 'GET' || method === 'DELETE' ? undefined : {}, key)
        assert.equal(res.statusCode, 401, `${method} ${url} with ${key === null ? 'no key' : 'a bad key'}`)
        const body = res.json<{ code: string, error: string, details: object }>()
        assert.equal(body.code, 'UNAUTHORIZED')
        assert.deepEqual(body.details, {})
      }
    }
    assert.match((await h.call('GET', '/api/v1/webhooks', undefined, null)).json<{ error: string }>().error, /X-API-Key/)
    assert.equal((await h.call('GET', '/healthz', undefined, null)).statusCode, 200)
  } finally {
    await h.close()
  }
})

test('the admin key manages workspaces and keys; workspace routes answer it 403, and admin routes a workspace key', async () => {
  const h = await createHarness()
  try {
    const created = await h.call('POST', '/api/v1/workspaces', { name: 'Acme' }, h.adminKey)
    assert.equal(created.statusCode, 201)
    const ws = created.json<{ id: string, name: string, api_key: string, api_key_id: string }>()
    assert.match(ws.id, /^ws_/)
    assert.equal(ws.name, 'Acme')
    assert.match(ws.api_key, /^kw_[A-Za-z0-9_-]{30,}$/)
    assert.equal((await h.call('GET', '/api/v1/webhooks', undefined, ws.api_key)).statusCode, 200)

    const list = (await h.call('GET', '/api/v1/workspaces', undefined, h.adminKey)).json<Array<{ id: string }>>()
    assert.deepEqual(list.map((w) => w.id).sort(), [h.a.id, h.b.id, ws.id].sort())
    assert.equal((await h.call('GET', `/api/v1/workspaces/${ws.id}`, undefined, h.adminKey)).json<{ name: string }>().name, 'Acme')
    assert.equal((await h.call('GET', '/api/v1/workspaces/ws_nope', undefined, h.adminKey)).statusCode, 404)
    assert.equal((await h.call('POST', '/api/v1/workspaces', {}, h.adminKey)).statusCode, 422)
    assert.equal((await h.call('POST', '/api/v1/workspaces', { name: '' }, h.adminKey)).statusCode, 422)

    // Rotation: a second key works alongside the first until the first is revoked.
    const second = await h.call('POST', `/api/v1/workspaces/${ws.id}/keys`, undefined, h.adminKey)
    assert.equal(second.statusCode, 201)
    const key2 = second.json<{ id: string, api_key: string, prefix: string }>()
    assert.ok(key2.api_key.startsWith(key2.prefix))
    const keys = (await h.call('GET', `/api/v1/workspaces/${ws.id}/keys`, undefined, h.adminKey))
    assert.ok(!keys.body.includes(ws.api_key) && !keys.body.includes(key2.api_key), 'listings never show keys')
    assert.equal(keys.json<unknown[]>().length, 2)
    const revoke = await h.call('DELETE', `/api/v1/workspaces/${ws.id}/keys/${ws.api_key_id}`, undefined, h.adminKey)
    assert.equal(revoke.statusCode, 204)
    assert.equal((await h.call('GET', '/api/v1/webhooks', undefined, ws.api_key)).statusCode, 401)
    assert.equal((await h.call('GET', '/api/v1/webhooks', undefined, key2.api_key)).statusCode, 200)
    // Another workspace's key id through this workspace: 404.
    const other = (await h.call('GET', `/api/v1/workspaces/${h.a.id}/keys`, undefined, h.adminKey)).json<Array<{ id: string }>>()
    assert.equal((await h.call('DELETE', `/api/v1/workspaces/${ws.id}/keys/${other[0]?.id ?? ''}`, undefined, h.adminKey)).statusCode, 404)
    assert.equal((await h.call('GET', '/api/v1/webhooks')).statusCode, 200, 'workspace A\'s key still works')

    const forbidden = await h.call('GET', '/api/v1/webhooks', undefined, h.adminKey)
    assert.equal(forbidden.statusCode, 403)
    assert.equal(forbidden.json<{ code: string }>().code, 'FORBIDDEN')
    assert.equal((await h.call('POST', '/api/v1/events', { event: 'call.ended', data: {} }, h.adminKey)).statusCode, 403)
    const notAdmin = await h.call('GET', '/api/v1/workspaces', undefined, h.a.key)
    assert.equal(notAdmin.statusCode, 403)
    assert.equal((await h.call('POST', '/api/v1/workspaces', { name: 'x' }, h.a.key)).statusCode, 403)
  } finally {
    await h.close()
  }
})

test('keys are stored as sha256 hashes only', async () => {
  const h = await createHarness()
  try {
    const row = await h.store.findApiKeyByHash(hashKey(h.a.key))
    assert.ok(row !== null)
    assert.equal(row.workspaceId, h.a.id)
    assert.notEqual(row.hash, h.a.key)
    assert.equal(row.prefix, h.a.key.slice(0, 7))
    const made = makeApiKey(null)
    assert.match(made.token, /^ka_/)
    assert.equal(made.row.hash, hashKey(made.token))
  } finally {
    await h.close()
  }
})

test('health, metrics, OpenAPI and docs need no key', async () => {
  const h = await createHarness()
  try {
    assert.deepEqual((await h.call('GET', '/healthz', undefined, null)).json(), { status: 'ok' })
    h.metrics.recordAttempt({ webhookId: 'wh_1', outcome: 'failed', durationMs: 120, final: null })
    h.metrics.recordAttempt({ webhookId: 'wh_1', outcome: 'delivered', durationMs: 30, final: 'succeeded' })
    await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })
    const published = await h.call('POST', '/api/v1/events', { event: 'campaign.paused', data: samplePayload('campaign.paused') })
    assert.equal(published.json<{ deliveries: number }>().deliveries, 1)
    const metrics = await h.call('GET', '/metrics', undefined, null)
    assert.equal(metrics.statusCode, 200)
    assert.match(String(metrics.headers['content-type']), /text\/plain/)
    assert.match(metrics.body, /kejue_delivery_attempts_total\{outcome="failed"\} 1/)
    assert.match(metrics.body, /kejue_deliveries_total\{status="succeeded"\} 1/)
    // No per-webhook series unless KEJUE_METRICS_PER_WEBHOOK=true (test/api/metrics.test.ts).
    assert.doesNotMatch(metrics.body, /wh_1/)
    assert.match(metrics.body, /kejue_delivery_attempt_duration_seconds_bucket/)
    assert.match(metrics.body, /kejue_deliveries_pending 1\n/)
    assert.match(metrics.body, /kejue_oldest_due_delivery_age_seconds \d/)

    const spec = await h.call('GET', '/api/v1/openapi.json', undefined, null)
    assert.equal(spec.statusCode, 200)
    const doc = spec.json<{ openapi: string, paths: Record<string, Record<string, unknown>>, components: { securitySchemes: object } }>()
    assert.match(doc.openapi, /^3\./)
    for (const path of ['/api/v1/webhooks', '/api/v1/webhooks/{id}', '/api/v1/webhooks/{id}/test', '/api/v1/webhooks/{id}/deliveries',
      '/api/v1/deliveries', '/api/v1/deliveries/{id}', '/api/v1/deliveries/{id}/retry', '/api/v1/events', '/api/v1/events/{event_id}',
      '/api/v1/persona-calls', '/api/v1/workspaces', '/healthz', '/api/v1/webhooks/{id}/rotate-secret', '/api/v1/erasures', '/api/v1/erasures/{id}']) {
      assert.ok(path in doc.paths, `${path} in the OpenAPI document`)
    }
    assert.ok('apiKey' in doc.components.securitySchemes)
    const docs = await h.app.inject({ method: 'GET', url: '/docs/' })
    assert.equal(docs.statusCode, 200)
    assert.match(docs.body, /swagger/i)
  } finally {
    await h.close()
  }
})

test('a 5xx hides the cause from the client and logs it with the request id; /healthz says 503', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kejue-api-'))
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
  const store = await createSqliteStore({ path: join(dir, 'webhooks.db') })
  const app = await buildApp({ store, config: resolveConfig({ env: {} }), logger: createLogger({ level: 'info', destination: sink }) })
  try {
    const key = makeApiKey(null)
    await store.createApiKey(key.row)
    const ws = (await app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { 'x-api-key': key.token }, payload: { name: 'w' } })).json<{ api_key: string }>()
    await store.close()
    const res = await app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: { 'x-api-key': ws.api_key } })
    assert.equal(res.statusCode, 500)
    assert.deepEqual(res.json(), { error: 'Internal Server Error', code: 'INTERNAL', details: {} })
    const requestId = String(res.headers['x-request-id'])
    assert.ok(lines.some((l) => l.includes('"level":50') && l.includes(requestId)), 'the error is logged with the request id')
    assert.ok(!lines.some((l) => l.includes(ws.api_key) || l.includes(key.token)), 'keys never reach the log')
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 503)
  } finally {
    await app.close()
    await rm(dir, { recursive: true, force: true })
  }
})
