/**
 * Routing does not read the workspace: with 2,000 subscriptions that must not get an event,
 * accepting it still delivers to exactly the right webhooks, and the rows the store hands back
 * per event are the matches (plus the call, for call events), not the workspace's webhooks.
 * Counts, not timings, so it cannot flake under load; bench/routing.ts measures the speed.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { acceptEvent } from '../../src/delivery/accept-event.js'
import { samplePayload } from '../../src/events/samples.js'
import Database from 'better-sqlite3'
import pg from 'pg'
import { routeStatement } from '../../src/store/postgres/queries/webhooks.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { routeSql } from '../../src/store/sqlite/queries/webhooks.js'
import type { NewWebhook, Store } from '../../src/store/store.js'
import { newId } from '../../src/util/ids.js'
import { webhookInput } from '../contract/store-fixtures.js'
import { TEST_DATABASE_URL, makePostgresStore } from '../helpers/postgres.js'

const OTHERS = 2_000

/** Wraps a store and counts, per read method, how many rows it returned. */
function countingReads (store: Store): { store: Store, rows: Map<string, number>, reset: () => void } {
  const rows = new Map<string, number>()
  const counted = new Proxy(store, {
    get (target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof key !== 'string' || typeof value !== 'function' || !/^(get|list|rout)/.test(key)) return value
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        const n = Array.isArray(result) ? result.length : result === null ? 0 : 1
        rows.set(key, (rows.get(key) ?? 0) + n)
        return result
      }
    },
  })
  return { store: counted, rows, reset: () => { rows.clear() } }
}

async function deliveredTo (store: Store, workspaceId: string, deliveryIds: readonly string[]): Promise<string[]> {
  const ids: string[] = []
  for (const id of deliveryIds) {
    const delivery = await store.getDelivery(workspaceId, id)
    assert.ok(delivery !== null)
    ids.push(delivery.webhookId)
  }
  return ids.sort()
}

async function routesAmongMany (store: Store): Promise<string> {
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'many', createdAt: new Date() })
  // Half subscribe to another type, half are scoped to other personas and subscribe to the same type.
  const others: NewWebhook[] = Array.from({ length: OTHERS }, (_, i) => i % 2 === 0
    ? webhookInput(workspaceId, { events: ['call.ended'] })
    : webhookInput(workspaceId, { events: ['call.started', 'campaign.started'], scopeType: 'persona', personaId: `per_other_${i}` }))
  for (let i = 0; i < others.length; i += 100) {
    await Promise.all(others.slice(i, i + 100).map(async (hook) => await store.createWebhook(hook, new Date())))
  }
  const global = await store.createWebhook(webhookInput(workspaceId, { events: ['call.started'] }), new Date())
  const wildcard = await store.createWebhook(webhookInput(workspaceId, { events: ['*'] }), new Date())
  const mine = await store.createWebhook(webhookInput(workspaceId, { events: ['*'], scopeType: 'persona', personaId: 'per_mine' }), new Date())
  // Disabled: it gets its deliveries parked (docs/delivery.md, "Parking").
  const disabled = await store.createWebhook(webhookInput(workspaceId, { events: ['*'], enabled: false }), new Date())

  const counting = countingReads(store)
  const accept = async (event: 'call.started' | 'campaign.started', data: Record<string, unknown>): Promise<string[]> => {
    counting.reset()
    const accepted = await acceptEvent(counting.store, { workspaceId, event, data })
    return await deliveredTo(store, workspaceId, accepted.deliveryIds)
  }

  const started = { ...samplePayload('call.started'), job_id: newId('job'), persona_id: 'per_mine' }
  assert.deepEqual(await accept('call.started', started), [global.id, wildcard.id, mine.id, disabled.id].sort())
  assert.equal(counting.rows.get('listWebhooks'), undefined, 'the workspace is never listed')
  // Only the candidates are read.
  assert.deepEqual(Object.fromEntries(counting.rows), { routingState: 1, routeWebhooks: 4 })

  const otherPersona = { ...samplePayload('call.started'), job_id: newId('job'), persona_id: 'per_other_1' }
  const expected = [global.id, wildcard.id, others[1]?.id ?? '', disabled.id].sort()
  assert.deepEqual(await accept('call.started', otherPersona), expected, 'the one other persona that matches')
  assert.deepEqual(Object.fromEntries(counting.rows), { routingState: 1, routeWebhooks: 4 })

  const campaign = { ...samplePayload('campaign.started') }
  delete campaign.persona_id
  assert.deepEqual(await accept('campaign.started', campaign), [wildcard.id, disabled.id].sort())
  assert.deepEqual(Object.fromEntries(counting.rows), { routingState: 1, routeWebhooks: 2 })
  return workspaceId
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  'Rows Removed by Index Recheck'?: number
  Plans?: PlanNode[]
}

/** Rows every scan of the plan touched: returned, or read and thrown away. */
function rowsTouched (node: PlanNode): number {
  const own = /Scan/.test(node['Node Type']) && node['Relation Name'] !== undefined
    ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1)
    : 0
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsTouched(child), 0)
}

describe('routing with 2,000 webhooks that do not match', () => {
  test('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kejue-routing-'))
    const path = join(dir, 'webhooks.db')
    const store = await createSqliteStore({ path })
    try {
      await routesAmongMany(store)
      // The statement seeks the routing index and fetches webhooks by key, with or without
      // statistics: no step walks a table or the workspace's webhooks.
      const db = new Database(path)
      try {
        for (const analyzed of [false, true]) {
          if (analyzed) db.exec('ANALYZE')
          const steps = db.prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${routeSql(2)}`).all('ws', 'call.started', '*', 'per')
          const scans = steps.map((step) => step.detail).filter((detail) => /^SCAN (?!r\b)/.test(detail) || /webhooks_by_workspace/.test(detail))
          assert.deepEqual(scans, [], `analyzed: ${analyzed}: ${steps.map((step) => step.detail).join('; ')}`)
        }
      } finally {
        db.close()
      }
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('postgres', async () => {
    const { store, schema, cleanup } = await makePostgresStore()
    try {
      const workspaceId = await routesAmongMany(store)
      // The rows the statement touches stay a handful with either plan PostgreSQL may cache for
      // it: the custom one for these values, or the generic one it settles on after a few runs.
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
      await client.connect()
      try {
        await client.query('ANALYZE')
        await client.query(`PREPARE route(text, text, text, text) AS ${routeStatement(2)}`)
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query(`SET plan_cache_mode = ${mode}`)
          const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
            `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE route(${[workspaceId, 'per_other_1', 'call.started', '*'].map((v) => client.escapeLiteral(v)).join(', ')})`)
          const plan = explained.rows[0]?.['QUERY PLAN'][0]?.Plan
          assert.ok(plan !== undefined)
          assert.ok(rowsTouched(plan) <= 12, `${mode}: ${rowsTouched(plan)} rows touched: ${JSON.stringify(plan)}`)
        }
      } finally {
        await client.end()
      }
    } finally {
      await cleanup()
    }
  })
})
