/**
 * GET /deliveries' search filters and GET /webhooks/{id}/stats through the API, on both stores;
 * the bucketing rule itself (src/api/webhook-series.ts) with fixed times; /metrics' token and
 * shapes (docs/api.md, "Metrics").
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bucketSeries, seriesRange } from '../../src/api/webhook-series.js'
import { samplePayload } from '../../src/events/samples.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createHarness, PUBLIC_URL } from './harness.js'

test('buckets are UTC-aligned, oldest first, empty ones zero with null percentiles', () => {
  const now = new Date('2026-03-04T10:17:30.000Z')
  const range = seriesRange(now, '1h', '5m')
  assert.equal(range.from.toISOString(), '2026-03-04T09:20:00.000Z')
  assert.equal(range.to.toISOString(), '2026-03-04T10:20:00.000Z')
  const samples = [
    { startedAt: new Date('2026-03-04T09:20:00.000Z'), durationMs: 10, statusCode: 200 },
    { startedAt: new Date('2026-03-04T09:21:00.000Z'), durationMs: 30, statusCode: 500 },
    { startedAt: new Date('2026-03-04T09:22:00.000Z'), durationMs: 20, statusCode: null },
    { startedAt: new Date('2026-03-04T10:17:00.000Z'), durationMs: 99, statusCode: 204 },
  ]
  const buckets = bucketSeries(samples, range)
  assert.equal(buckets.length, 12)
  assert.deepEqual(buckets[0], { start: '2026-03-04T09:20:00.000Z', succeeded: 1, failed: 2, p50_ms: 20, p95_ms: 30 })
  assert.deepEqual(buckets[1], { start: '2026-03-04T09:25:00.000Z', succeeded: 0, failed: 0, p50_ms: null, p95_ms: null })
  assert.deepEqual(buckets[11], { start: '2026-03-04T10:15:00.000Z', succeeded: 1, failed: 0, p50_ms: 99, p95_ms: 99 })
  assert.equal(bucketSeries([], seriesRange(now, '7d', '1d')).length, 7)
  assert.equal(bucketSeries([], seriesRange(now, '24h', '1h'))[0]?.start, '2026-03-03T11:00:00.000Z')
})

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`search and charts through the API: ${driver}`, () => {
    test('GET /deliveries filters by job, contact, event id, time; /webhooks/{id}/stats counts attempts', async () => {
      const h = await createHarness({ driver })
      try {
        const created = await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'], name: 'CRM' })
        const webhook = created.json<{ id: string }>().id
        const before = new Date(Date.now() - 1_000).toISOString()
        const ids: string[] = []
        for (const [job, contact] of [['job_a', 'ct_1'], ['job_b', 'ct_1'], ['job_c', 'ct_2']]) {
          const res = await h.call('POST', '/api/v1/events', { event: 'call.ended', data: { ...samplePayload('call.ended'), job_id: job, contact_id: contact } })
          assert.equal(res.statusCode, 202, res.body)
          ids.push(res.json<{ event_id: string }>().event_id)
        }
        const list = async (query: string): Promise<string[]> => {
          const res = await h.call('GET', `/api/v1/deliveries?${query}`)
          assert.equal(res.statusCode, 200, res.body)
          return res.json<{ data: Array<{ event_id: string }> }>().data.map((d) => d.event_id)
        }
        assert.deepEqual(await list('job_id=job_b'), [ids[1]])
        assert.deepEqual(await list('contact_id=ct_1'), [ids[1], ids[0]])
        assert.deepEqual(await list(`event_id=${ids[2] ?? ''}`), [ids[2]])
        assert.deepEqual(await list(`since=${encodeURIComponent(before)}&job_id=job_a`), [ids[0]])
        assert.deepEqual(await list(`until=${encodeURIComponent(before)}`), [])
        assert.deepEqual(await list(`webhook_id=${webhook}&status=pending&contact_id=ct_2`), [ids[2]])
        const bad = await h.call('GET', '/api/v1/deliveries?since=yesterday')
        assert.equal(bad.statusCode, 422)
        assert.equal(bad.json<{ details: { fields: Array<{ path: string }> } }>().details.fields[0]?.path, 'since')

        // Attempts: one success and one failure now, in the current bucket.
        const claimed = await h.store.claimDue({ now: new Date(Date.now() + 1_000), limit: 2, leaseMs: 30_000, owner: 't' })
        const [ok, failed] = claimed
        assert.ok(ok && failed)
        await h.store.completeAttempts([
          { deliveryId: ok.deliveryId, leaseToken: ok.leaseToken, attempt: { attempt: 1, startedAt: new Date(), durationMs: 40, statusCode: 200, error: null, responseExcerpt: null }, settlement: { status: 'succeeded' } },
          { deliveryId: failed.deliveryId, leaseToken: failed.leaseToken, attempt: { attempt: 1, startedAt: new Date(), durationMs: 900, statusCode: 500, error: 'HTTP 500', responseExcerpt: null }, settlement: { status: 'failed' } },
        ], new Date())
        const stats = await h.call('GET', `/api/v1/webhooks/${webhook}/stats?window=1h`)
        assert.equal(stats.statusCode, 200, stats.body)
        const body = stats.json<{ bucket: string, buckets: Array<{ start: string, succeeded: number, failed: number, p50_ms: number | null, p95_ms: number | null }> }>()
        assert.equal(body.bucket, '5m')
        assert.equal(body.buckets.length, 12)
        assert.ok(body.buckets.every((b, i) => i === 0 || Date.parse(b.start) - Date.parse(body.buckets[i - 1]?.start ?? '') === 300_000))
        const last = body.buckets.at(-1)
        assert.deepEqual({ ...last, start: undefined }, { start: undefined, succeeded: 1, failed: 1, p50_ms: 40, p95_ms: 900 })
        assert.equal((await h.call('GET', `/api/v1/webhooks/${webhook}/stats?window=7d`)).json<{ buckets: unknown[] }>().buckets.length, 7)
        assert.equal((await h.call('GET', `/api/v1/webhooks/${webhook}/stats?window=2h`)).statusCode, 422)
        assert.equal((await h.call('GET', `/api/v1/webhooks/${webhook}/stats`, undefined, h.b.key)).statusCode, 404)

        // The health strip counts this workspace only.
        const mine = (await h.call('GET', '/api/v1/stats')).json<{ pending: number, failed_last_hour: number }>()
        assert.deepEqual(mine, { pending: 1, failed_last_hour: 1 })
        assert.deepEqual((await h.call('GET', '/api/v1/stats', undefined, h.b.key)).json(), { pending: 0, failed_last_hour: 0 })
      } finally {
        await h.close()
      }
    })
  })
}

test('/metrics: standard process names, counters from zero, request durations, per-webhook only on request, token', async () => {
  const h = await createHarness({ env: { KEJUE_METRICS_TOKEN: 'metrics-token-0123456789' } })
  try {
    const scrape = async (headers: Record<string, string>): Promise<{ statusCode: number, body: string }> =>
      await h.app.inject({ method: 'GET', url: '/metrics', headers })
    assert.equal((await scrape({})).statusCode, 401)
    assert.equal((await scrape({ authorization: `Bearer ${h.a.key}` })).statusCode, 401, 'an API key does not open /metrics')
    const portal = (await h.call('POST', '/api/v1/portal-sessions', {})).json<{ token: string }>().token
    assert.equal((await scrape({ authorization: `Bearer ${portal}` })).statusCode, 401, 'a portal token does not open /metrics')
    const denied = await h.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: { authorization: 'Bearer metrics-token-0123456789' } })
    assert.equal(denied.statusCode, 401, 'the metrics token opens nothing else')
    await h.call('GET', '/api/v1/webhooks')
    const res = await scrape({ authorization: 'Bearer metrics-token-0123456789' })
    assert.equal(res.statusCode, 200)
    for (const outcome of ['delivered', 'rejected', 'failed', 'blocked']) {
      assert.match(res.body, new RegExp(`kejue_delivery_attempts_total\\{outcome="${outcome}"\\} 0`))
    }
    assert.match(res.body, /kejue_deliveries_total\{status="failed"\} 0/)
    assert.match(res.body, /kejue_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/webhooks",status_code="200"\} 1/)
    assert.doesNotMatch(res.body, /kejue_webhook_attempts_total/)
  } finally {
    await h.close()
  }
})

test('Node\'s standard process metrics keep their standard names', async () => {
  const metrics = createMetrics()
  const text = await metrics.registry.metrics()
  assert.match(text, /^process_cpu_user_seconds_total /m)
  assert.match(text, /^nodejs_heap_size_used_bytes /m)
  assert.doesNotMatch(text, /kejue_process_|kejue_nodejs_/)
})
