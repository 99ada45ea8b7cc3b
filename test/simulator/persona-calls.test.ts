import { test } from 'node:test'
import assert from 'node:assert/strict'
import { events, startHarness, waitFor, waitSettled } from './helpers.js'

const ALWAYS_COMPLETED = { completed: 1, no_answer: 0, busy: 0, failed: 0, voicemail: 0 }

test('a simulated persona call sends its events to its inline webhooks only, each by its own events list', async () => {
  const h = await startHarness({ speed: 2_000, outcomeWeights: ALWAYS_COMPLETED })
  try {
    const workspace = await h.receiver('whsec_workspace_star')
    const inline = await h.receiver('whsec_inline_hook')
    assert.equal((await h.api('POST', '/webhooks', { url: workspace.url, events: ['*'], secret: 'whsec_workspace_star' })).status, 201)

    const withInline = await h.api('POST', '/persona-calls', {
      persona_id: 'per_abc',
      contact: { id: 'ct_inline', name: 'John Doe', phone: '+14155551234' },
      config: { webhooks: [{ url: inline.url, events: ['call.ended', 'call.analyzed'], signing_method: 'hmac_sha256', secret: 'whsec_inline_hook' }] },
    })
    assert.equal(withInline.status, 201, JSON.stringify(withInline.body))
    const inlineJob = String(withInline.body.job_id)
    // A call without inline webhooks goes to the workspace's "*" webhook, so that one is listening.
    const plain = await h.api('POST', '/persona-calls', { persona_id: 'per_abc', contact_id: 'ct_plain' })
    const plainJob = String(plain.body.job_id)

    const jobOf = (data: Record<string, unknown>): string => String(data.job_id ?? (data.call as { id?: string } | undefined)?.id)
    await waitFor('the inline call\'s analysis', () => events(inline.listener.received).some((e) => e.event === 'call.analyzed'))
    await waitFor('the plain call\'s analysis', () => events(workspace.listener.received).some((e) => e.event === 'call.analyzed' && jobOf(e.data) === plainJob))
    await waitSettled(h.service)

    const inlineGot = events(inline.listener.received)
    assert.deepEqual(inlineGot.map((e) => e.event), ['call.ended', 'call.analyzed'])
    assert.ok(inlineGot.every((e) => jobOf(e.data) === inlineJob))
    assert.ok(inline.listener.received.every((d) => d.verified))

    const workspaceGot = events(workspace.listener.received)
    assert.equal(workspaceGot.filter((e) => jobOf(e.data) === inlineJob).length, 0, 'the "*" webhook got none of the inline call\'s events')
    assert.deepEqual(workspaceGot.filter((e) => jobOf(e.data) === plainJob).map((e) => e.event), ['call.started', 'call.ended', 'call.analyzed'])
  } finally {
    await h.close()
  }
})

test('without the simulator, /campaigns does not exist and persona calls are only registered', async () => {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { request } = await import('undici')
  const { startLocalService } = await import('../../src/cli/demo/local-service.js')
  const dir = await mkdtemp(join(tmpdir(), 'kejue-nosim-'))
  const service = await startLocalService({ dataDir: dir, simulate: false })
  try {
    // With the simulator this body would be a 422; without it the route does not exist.
    const res = await request(`${service.url}/api/v1/campaigns`, { method: 'POST', headers: { 'x-api-key': service.workspaceKey, 'content-type': 'application/json' }, body: '{}' })
    assert.equal(res.statusCode, 404)
    assert.match(await res.body.text(), /no route/)
    assert.equal(service.sandbox, undefined)
  } finally {
    await service.close()
    await rm(dir, { recursive: true, force: true })
  }
})
