/**
 * The OpenAPI document is one a code generator can use (docs/api.md, "OpenAPI"): valid OpenAPI
 * 3.0 (checked with @seriousme/openapi-schema-validator), an operationId on every operation, no
 * "Default Response", shared components behind $refs, examples that validate, a publish example
 * the API accepts, and a typed client generated from it (openapi-typescript) that type-checks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { Value } from '@sinclair/typebox/value'
import { Validator } from '@seriousme/openapi-schema-validator'
import openapiTS, { astToString } from 'openapi-typescript'
import type { OpenAPI3 } from 'openapi-typescript'
import { openApiComponents } from '../../src/api/openapi.js'
import { createHarness, PUBLIC_URL } from './harness.js'

interface Operation { operationId?: string, responses: Record<string, { description: string }>, requestBody?: { required?: boolean, content: Record<string, { schema: { example?: unknown } }> } }

test('the OpenAPI document validates, names every operation, describes every response and shares components', async () => {
  const h = await createHarness()
  try {
    const res = await h.call('GET', '/api/v1/openapi.json', undefined, null)
    assert.equal(res.statusCode, 200)
    const doc = res.json<{ paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, unknown> } }>()

    const result = await new Validator().validate(structuredClone(doc) as unknown as Parameters<Validator['validate']>[0])
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2))

    assert.equal(res.body.includes('Default Response'), false)
    const ids = new Set<string>()
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        assert.ok(op.operationId, `${method} ${path} has an operationId`)
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`)
        ids.add(op.operationId)
        for (const [status, response] of Object.entries(op.responses)) assert.ok(response.description.length > 2, `${method} ${path} ${status}`)
        // A generated client gets a success type for every operation, and a body's content type can be refused.
        assert.ok(Object.keys(op.responses).some((status) => status.startsWith('2')), `${method} ${path} documents its success`)
        if (op.requestBody !== undefined) assert.ok(op.responses['415'], `${method} ${path} documents 415`)
      }
    }
    // A producer cannot publish webhook.disabled (only the service sends it); an envelope may carry it.
    const publishData = JSON.stringify(doc.paths['/api/v1/events']?.post?.requestBody?.content['application/json']?.schema)
    assert.match(publishData, /CallEndedData/)
    assert.doesNotMatch(publishData, /WebhookDisabledData/)
    assert.match(JSON.stringify(doc.components.schemas.Envelope), /WebhookDisabledData/)
    for (const name of ['Error', 'Webhook', 'Delivery', 'Attempt', 'CallEndedData', 'CallAnalyzedData', 'CampaignFailedData', 'WebhookDisabledData']) {
      assert.ok(doc.components.schemas[name], `component ${name}`)
    }
    const get = doc.paths['/api/v1/webhooks/{id}']?.get
    assert.deepEqual((get?.responses['200'] as unknown as { content: { 'application/json': { schema: unknown } } }).content['application/json'].schema,
      { $ref: '#/components/schemas/Webhook' })
    assert.match(JSON.stringify(doc.paths['/api/v1/deliveries']), /#\/components\/schemas\/Delivery/)
    assert.match(JSON.stringify(doc.paths['/api/v1/webhooks']?.post?.responses['422']), /#\/components\/schemas\/Error/)

    // Every component example matches the schema the API itself validates and serializes with.
    for (const { name, schema, example } of openApiComponents()) {
      if (example !== undefined) assert.ok(Value.Check(schema, example), `example of ${name}: ${JSON.stringify([...Value.Errors(schema, example)][0])}`)
    }
    // Bodies the routes accept absent are not required (generated clients may leave them out);
    // a create's body is.
    for (const [path, method] of [['/api/v1/webhooks/{id}/rotate-secret', 'post'], ['/api/v1/webhooks/{id}/enable', 'post'], ['/api/v1/portal-sessions', 'post']] as const) {
      const op = doc.paths[path]?.[method]
      assert.ok(op !== undefined, `${method} ${path}`)
      assert.equal(op.requestBody?.required ?? false, false, `${method} ${path}: the body is optional`)
    }
    assert.equal(doc.paths['/api/v1/webhooks']?.post?.requestBody?.required, true, 'POST /webhooks needs its body')
    // What /docs' "Try it out" sends is accepted.
    const example = doc.paths['/api/v1/events']?.post?.requestBody?.content['application/json']?.schema.example
    assert.ok(example)
    await h.call('POST', '/api/v1/webhooks', { url: PUBLIC_URL, events: ['*'] })
    const published = await h.call('POST', '/api/v1/events', example)
    assert.equal(published.statusCode, 202, published.body)
  } finally {
    await h.close()
  }
})

test('openapi-typescript turns the document into a typed client that type-checks', async () => {
  const h = await createHarness()
  // Inside the project (git-ignored test-output/), so the generated file resolves its imports like a user's would.
  await mkdir(join(process.cwd(), 'test-output'), { recursive: true })
  const dir = await mkdtemp(join(process.cwd(), 'test-output', 'openapi-'))
  try {
    const doc = (await h.call('GET', '/api/v1/openapi.json', undefined, null)).json<OpenAPI3>()
    const source = astToString(await openapiTS(doc))
    await writeFile(join(dir, 'api.d.ts'), source)
    await writeFile(join(dir, 'use.ts'), `import type { components, operations, paths } from './api.js'
type Delivery = components['schemas']['Delivery']
type Query = NonNullable<operations['listDeliveries']['parameters']['query']>
const query: Query = { job_id: 'job_123', contact_id: 'ct_789', since: '2025-01-15T00:00:00Z', status: 'failed' }
const headers: Delivery['attempts'][number]['request_headers'] = { 'X-Kejue-Attempt': '1' }
const body: paths['/api/v1/events']['post']['requestBody']['content']['application/json'] = {
  event: 'call.ended', data: { job_id: 'job_123' } as components['schemas']['CallEndedData'],
}
const stats: components['schemas']['WebhookStats']['buckets'][number] = { start: '', succeeded: 1, failed: 0, p50_ms: null, p95_ms: null }
// @ts-expect-error an unknown filter is a type error
const bad: Query = { no_such_filter: 'x' }
export { query, headers, body, stats, bad }
`)
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', join(dir, 'use.ts')], { encoding: 'utf8' })
    } catch (err) {
      assert.fail(`the generated client does not type-check: ${(err as { stdout?: string }).stdout ?? String(err)}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    await h.close()
  }
})
