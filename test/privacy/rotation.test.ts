/**
 * Secret rotation with overlap, end to end on both stores (docs/wire-format.md, "Secret
 * rotation"): real deliveries from the engine to a receiver, checked with the spec's own
 * verifyWebhook (old secret, X-Kejue-Signature) and with the receiver SDK given only the new one;
 * standard_webhooks with the standardwebhooks library.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { safeVerify } from '../../src/receiver/index.js'
import { verifyWebhook } from '../receiver/spec-verify-webhook.mjs'
import { startReceiver } from '../helpers/receiver.js'
import type { ReceivedRequest } from '../helpers/receiver.js'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { startSealedStack } from '../helpers/sealed-stack.js'
import { waitFor } from '../helpers/wait-for.js'
import type { Driver } from '../helpers/sealed-stack.js'

const OLD = 'whsec_rotation_old_secret'
const NEW = 'whsec_rotation_new_secret'
const NEWER = 'whsec_rotation_newer_secret'
const HOUR_MS = 3_600_000

function header (request: ReceivedRequest, name: string): string {
  const value = request.headers[name]
  return typeof value === 'string' ? value : ''
}

/** The spec's verifyWebhook, exactly as printed, on what the receiver got. */
function specAccepts (request: ReceivedRequest, secret: string): boolean {
  return verifyWebhook(request.body.toString('utf8'), header(request, 'x-kejue-signature'), header(request, 'x-kejue-timestamp'), secret)
}

function sdkAccepts (request: ReceivedRequest, secrets: string[]): boolean {
  return safeVerify(request.body, request.headers, { secret: secrets, toleranceMs: Infinity }).ok
}

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`secret rotation with overlap (${driver})`, () => {
    test('the old secret signs X-Kejue-Signature during the overlap, the new one X-Kejue-Signature-Next, and only the new one after', async () => {
      const stack = await startSealedStack(driver)
      const receiver = await startReceiver({ respond: [200] })
      try {
        const created = await stack.call('POST', '/api/v1/webhooks', { url: receiver.url, events: ['call.ended'], secret: OLD })
        assert.equal(created.statusCode, 201, created.body)
        const id = created.json<{ id: string }>().id
        assert.equal(created.json<{ secret_rotation: unknown }>().secret_rotation, null)
        let sent = 0
        async function deliver (): Promise<ReceivedRequest> {
          const res = await stack.call('POST', '/api/v1/events', { event: 'call.ended', data: { job_id: `job_${sent}`, contact_id: 'ct_1', status: 'completed', ended_reason: 'agent_hangup', duration_seconds: 3, transcript: 'Agent: hi', recording_url: null, retry: { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 } } })
          assert.equal(res.statusCode, 202, res.body)
          sent++
          const requests = await receiver.waitForRequests(sent, 20_000)
          const last = requests[sent - 1]
          assert.ok(last !== undefined)
          return last
        }

        const before = await deliver()
        assert.equal(specAccepts(before, OLD), true)
        assert.equal(header(before, 'x-kejue-signature-next'), '', 'no overlap yet')

        const tooLong = await stack.call('POST', `/api/v1/webhooks/${id}/rotate-secret`, { overlap_ms: 604_800_001 })
        assert.equal(tooLong.statusCode, 422, tooLong.body)

        const rotatedAt = Date.now()
        const rotated = await stack.call('POST', `/api/v1/webhooks/${id}/rotate-secret`, { secret: NEW })
        assert.equal(rotated.statusCode, 200, rotated.body)
        const body = rotated.json<{ secret: string, previous_secret_expires_at: string, secret_rotation: { previous_secret_expires_at: string } }>()
        assert.equal(body.secret, NEW)
        const expiresAt = Date.parse(body.previous_secret_expires_at)
        assert.ok(expiresAt >= rotatedAt + 24 * HOUR_MS && expiresAt <= Date.now() + 24 * HOUR_MS, body.previous_secret_expires_at)
        assert.deepEqual(body.secret_rotation, { previous_secret_expires_at: body.previous_secret_expires_at })
        const read = await stack.call('GET', `/api/v1/webhooks/${id}`)
        assert.deepEqual(read.json<{ secret_rotation: unknown }>().secret_rotation, { previous_secret_expires_at: body.previous_secret_expires_at })
        assert.equal(read.body.includes(NEW), false, 'reads never show the secret')

        for (let i = 0; i < 3; i++) {
          const during = await deliver()
          assert.equal(specAccepts(during, OLD), true, 'receivers not yet updated keep working')
          assert.equal(sdkAccepts(during, [NEW]), true, 'the SDK accepts with the new secret alone (X-Kejue-Signature-Next)')
          assert.equal(sdkAccepts(during, [OLD]), true)
          assert.match(header(during, 'x-kejue-signature-next'), /^sha256=[0-9a-f]{64}$/)
        }

        // A rotation during the overlap drops the oldest secret at once.
        const again = await stack.call('POST', `/api/v1/webhooks/${id}/rotate-secret`, { secret: NEWER, overlap_ms: 2 * HOUR_MS })
        assert.equal(again.statusCode, 200, again.body)
        const during2 = await deliver()
        assert.equal(specAccepts(during2, NEW), true)
        assert.equal(specAccepts(during2, OLD), false)
        assert.equal(sdkAccepts(during2, [NEWER]), true)
        assert.equal(sdkAccepts(during2, [OLD]), false)

        // After the overlap (the engine's clock moved past it): only the newest secret signs.
        stack.advance(3 * HOUR_MS)
        const after = await deliver()
        assert.equal(header(after, 'x-kejue-signature-next'), '')
        assert.equal(specAccepts(after, NEWER), true, "after the overlap the spec's code accepts with the new secret")
        assert.equal(specAccepts(after, NEW), false)
        assert.equal(sdkAccepts(after, [NEW, NEWER]), true)
      } finally {
        await receiver.close()
        await stack.close()
      }
    })

    test('standard_webhooks: rotate-secret generates a whsec_<base64> secret; during the overlap webhook-signature carries both', async () => {
      const stack = await startSealedStack(driver)
      const receiver = await startReceiver({ respond: [200] })
      try {
        const created = await stack.call('POST', '/api/v1/webhooks', { url: receiver.url, events: ['call.ended'], signing_method: 'standard_webhooks' })
        assert.equal(created.statusCode, 201, created.body)
        const { id, secret: old } = created.json<{ id: string, secret: string }>()
        const rotated = await stack.call('POST', `/api/v1/webhooks/${id}/rotate-secret`, {})
        assert.equal(rotated.statusCode, 200, rotated.body)
        const { secret: next, previous_secret_expires_at: expires } = rotated.json<{ secret: string, previous_secret_expires_at: string | null }>()
        assert.match(next, /^whsec_[A-Za-z0-9+/]+={0,2}$/)
        assert.notEqual(next, old)
        assert.ok(expires !== null, 'an overlap runs')
        const refused = await stack.call('POST', `/api/v1/webhooks/${id}/rotate-secret`, { secret: 'not-a-whsec-secret' })
        assert.equal(refused.statusCode, 422, refused.body)

        const event = await stack.call('POST', '/api/v1/events', { event: 'call.ended', data: { job_id: 'job_sw', contact_id: 'ct_1', status: 'completed', ended_reason: 'agent_hangup', duration_seconds: 3, transcript: 'Agent: hi', recording_url: null, retry: { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 } } })
        assert.equal(event.statusCode, 202, event.body)
        const [during] = await receiver.waitForRequests(1, 20_000)
        assert.ok(during !== undefined)
        const headers = { 'webhook-id': header(during, 'webhook-id'), 'webhook-timestamp': header(during, 'webhook-timestamp'), 'webhook-signature': header(during, 'webhook-signature') }
        assert.match(headers['webhook-signature'], /^v1,\S+ v1,\S+$/, 'the old and the new signature, space-separated')
        const body = during.body.toString('utf8')
        // The Standard Webhooks library accepts it with the new secret (and, still, the old one).
        assert.deepEqual(new StandardWebhook(next).verify(body, headers), JSON.parse(body))
        assert.deepEqual(new StandardWebhook(old).verify(body, headers), JSON.parse(body))
        // Our SDK with either secret.
        for (const secret of [[next], [old], [old, next]]) {
          assert.equal(safeVerify(during.body, during.headers, { method: 'standard_webhooks', secret, toleranceMs: Infinity }).ok, true, secret.join(','))
        }
        assert.equal(safeVerify(during.body, during.headers, { method: 'standard_webhooks', secret: 'whsec_AQIDBAUGBwgJCgsMDQ4PEA==', toleranceMs: Infinity }).ok, false)
        // The delivery log rebuilds the attempt's headers with the signature masked.
        const logged = await waitFor('the attempt to be recorded', async () => {
          const res = await stack.call('GET', `/api/v1/deliveries/${headers['webhook-id']}`)
          assert.equal(res.statusCode, 200, res.body)
          return res.json<{ attempts: unknown[] }>().attempts.length > 0 ? res : null
        })
        assert.equal(logged.body.includes(headers['webhook-signature'].split(' ')[0] ?? '-'), false)
        assert.match(logged.body, /"webhook-id":"dlv_/)
      } finally {
        await receiver.close()
        await stack.close()
      }
    })

    test('bearer rotates at once; overlap_ms 0 too', async () => {
      const stack = await startSealedStack(driver)
      try {
        const created = await stack.call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['call.ended'], signing_method: 'bearer' })
        const id = created.json<{ id: string }>().id
        const rotated = await stack.call('POST', `/api/v1/webhooks/${id}/rotate-secret`, {})
        assert.equal(rotated.statusCode, 200, rotated.body)
        assert.equal(rotated.json<{ previous_secret_expires_at: unknown }>().previous_secret_expires_at, null)
        assert.equal(rotated.json<{ secret_rotation: unknown }>().secret_rotation, null)
        const hmac = await stack.call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['call.ended'] })
        const zero = await stack.call('POST', `/api/v1/webhooks/${hmac.json<{ id: string }>().id}/rotate-secret`, { overlap_ms: 0 })
        assert.equal(zero.json<{ previous_secret_expires_at: unknown }>().previous_secret_expires_at, null)
      } finally {
        await stack.close()
      }
    })
  })
}
