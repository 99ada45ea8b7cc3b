/**
 * Portal sessions (docs/api.md, "Portal sessions") on both stores: the link, what its token may
 * reach (read routes; webhook management unless read-only; never /events, /erasures,
 * /portal-sessions, /workspaces), persona scope, expiry, revocation, and never another workspace.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { hashKey } from '../../src/api/auth.js'
import { samplePayload } from '../../src/events/samples.js'
import { newId } from '../../src/util/ids.js'
import { createHarness, PUBLIC_URL } from './harness.js'
import type { Harness } from './harness.js'

interface Portal { id: string, url: string, token: string, expires_at: string }

async function portal (h: Harness, body: Record<string, unknown>): Promise<Portal> {
  const res = await h.call('POST', '/api/v1/portal-sessions', body)
  assert.equal(res.statusCode, 201, res.body)
  return res.json<Portal>()
}

async function hook (h: Harness, body: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], ...body })
  assert.equal(res.statusCode, 201, res.body)
  return res.json<{ id: string }>().id
}

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`portal sessions: ${driver}`, () => {
    test('a read-only persona link sees its persona\'s webhooks and deliveries only, and writes nothing', async () => {
      const h = await createHarness({ driver, env: { KEJUE_PUBLIC_URL: 'https://hooks.example.com/' } })
      try {
        const mine = await hook(h, { name: 'Mine', scope_type: 'persona', persona_id: 'per_a' })
        const theirs = await hook(h, { name: 'Theirs', scope_type: 'persona', persona_id: 'per_b' })
        const global = await hook(h, { name: 'Global' })
        const call = { ...samplePayload('call.ended'), persona_id: 'per_a' }
        assert.equal((await h.call('POST', '/api/v1/events', { event: 'call.ended', data: call })).statusCode, 202)
        assert.equal((await h.call('POST', '/api/v1/events', { event: 'call.ended', data: { ...call, persona_id: 'per_b', job_id: 'job_b' } })).statusCode, 202)

        const link = await portal(h, { persona_id: 'per_a', read_only: true, ttl_s: 600 })
        assert.match(link.url, /^https:\/\/hooks\.example\.com\/#token=kp_/)
        assert.equal(new URL(link.url).hash, `#token=${link.token}`)
        assert.ok(Math.abs(Date.parse(link.expires_at) - Date.now() - 600_000) < 60_000)

        const bearer = { authorization: `Bearer ${link.token}` }
        const get = async (url: string, headers: Record<string, string> = bearer): Promise<{ statusCode: number, body: string, json: <T>() => T }> =>
          await h.app.inject({ method: 'GET', url, headers })
        const hooks = await get('/api/v1/webhooks')
        assert.equal(hooks.statusCode, 200, hooks.body)
        assert.deepEqual(hooks.json<Array<{ id: string }>>().map((w) => w.id), [mine])
        assert.equal((await get(`/api/v1/webhooks/${mine}`, { 'x-api-key': link.token })).statusCode, 200, 'X-API-Key works too')
        assert.equal((await get(`/api/v1/webhooks/${theirs}`)).statusCode, 404, 'another persona\'s webhook')
        assert.equal((await get(`/api/v1/webhooks/${global}`)).statusCode, 404, 'a global webhook')
        assert.equal((await get(`/api/v1/webhooks/${global}/stats`)).statusCode, 404)
        assert.equal((await get(`/api/v1/webhooks/${mine}/stats?window=1h`)).statusCode, 200)

        const deliveries = (await get('/api/v1/deliveries')).json<{ data: Array<{ id: string, webhook_id: string }> }>().data
        assert.ok(deliveries.length > 0)
        assert.ok(deliveries.every((d) => d.webhook_id === mine))
        const everything = (await h.call('GET', '/api/v1/deliveries')).json<{ data: Array<{ id: string, webhook_id: string }> }>().data
        const foreign = everything.find((d) => d.webhook_id !== mine)
        assert.ok(foreign)
        assert.equal((await get(`/api/v1/deliveries/${foreign.id}`)).statusCode, 404)
        assert.equal((await get(`/api/v1/deliveries?webhook_id=${theirs}`)).json<{ data: unknown[] }>().data.length, 0)
        assert.equal((await get('/api/v1/stats')).statusCode, 200)

        const write = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<number> =>
          (await h.app.inject({ method, url, headers: { ...bearer, 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) })).statusCode
        assert.equal(await write('PATCH', `/api/v1/webhooks/${mine}`, { name: 'x' }), 403, 'read-only')
        assert.equal(await write('POST', `/api/v1/deliveries/${deliveries[0]?.id ?? ''}/retry`), 403)
        for (const [method, url, body] of [
          ['POST', '/api/v1/events', { event: 'call.ended', data: call }],
          ['POST', '/api/v1/erasures', { job_id: 'job_1' }],
          ['POST', '/api/v1/portal-sessions', {}],
          ['POST', '/api/v1/workspaces', { name: 'x' }],
        ] as const) {
          assert.ok(h.app.hasRoute({ method, url }), `${method} ${url} exists`)
          assert.equal(await write(method, url, body), 403, `${method} ${url}`)
        }
        assert.equal((await get(`/api/v1/events/${'evt_x'}`)).statusCode, 403)
        assert.equal((await get('/api/v1/workspaces')).statusCode, 403)
        assert.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: bearer })).statusCode, 200, '/metrics is open without KEJUE_METRICS_TOKEN')

        // Never another workspace: its objects are 404 to this token.
        const other = (await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], scope_type: 'persona', persona_id: 'per_a' }, h.b.key)).json<{ id: string }>().id
        assert.equal((await get(`/api/v1/webhooks/${other}`)).statusCode, 404)

        // Revoked: 401 at once.
        assert.equal((await h.call('DELETE', `/api/v1/portal-sessions/${link.id}`)).statusCode, 204)
        assert.equal((await get('/api/v1/webhooks')).statusCode, 401)
        assert.equal((await h.call('DELETE', `/api/v1/portal-sessions/${link.id}`, undefined, h.b.key)).statusCode, 404, 'not from another workspace')
      } finally {
        await h.close()
      }
    })

    test('a writable persona link manages its persona\'s webhooks only; an expired link is refused', async () => {
      const h = await createHarness({ driver })
      try {
        const link = await portal(h, { persona_id: 'per_a' })
        const headers = { authorization: `Bearer ${link.token}`, 'content-type': 'application/json' }
        const post = async (body: unknown): Promise<{ statusCode: number, body: string }> =>
          await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers, payload: JSON.stringify(body) })
        assert.equal((await post({ url: PUBLIC_URL, events: ['*'] })).statusCode, 403, 'a global webhook is out of its scope')
        const created = await post({ url: PUBLIC_URL, events: ['*'], scope_type: 'persona', persona_id: 'per_a' })
        assert.equal(created.statusCode, 201, created.body)
        const id = (JSON.parse(created.body) as { id: string }).id
        const patch = async (body: unknown): Promise<number> =>
          (await h.app.inject({ method: 'PATCH', url: `/api/v1/webhooks/${id}`, headers, payload: JSON.stringify(body) })).statusCode
        assert.equal(await patch({ name: 'renamed' }), 200)
        assert.equal(await patch({ persona_id: 'per_b' }), 403)
        assert.equal(await patch({ scope_type: 'global' }), 403)

        // A session whose expires_at has passed is refused (401), by either header.
        const token = 'kp_expired_token_for_the_test'
        await h.store.createPortalSession({
          id: newId('ps'), workspaceId: h.a.id, hash: hashKey(token), personaId: null, readOnly: false,
          createdAt: new Date(Date.now() - 7_200_000), expiresAt: new Date(Date.now() - 1_000), revokedAt: null,
        })
        assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: { authorization: `Bearer ${token}` } })).statusCode, 401)
        assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: { 'x-api-key': token } })).statusCode, 401)
        assert.equal((await h.call('POST', '/api/v1/portal-sessions', { ttl_s: 59 })).statusCode, 422)
        assert.equal((await h.call('POST', '/api/v1/portal-sessions', { ttl_s: 86_401 })).statusCode, 422)
        assert.equal((await h.call('POST', '/api/v1/portal-sessions', undefined)).statusCode, 201, 'the body is optional')
      } finally {
        await h.close()
      }
    })
  })
}
