/**
 * Migration 0002 on a store that already has webhooks: the routing index is filled from them, so
 * a deployment that upgrades routes exactly as before. Both drivers, starting from schema 0001.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { migration0001 as postgres0001 } from '../src/store/postgres/migrations/0001-init.js'
import { createPostgresStore } from '../src/store/postgres/index.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { migrate } from '../src/store/sqlite/migrations.js'
import { migration0001 as sqlite0001 } from '../src/store/sqlite/migrations/0001-init.js'
import type { NewWebhook, Store } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'
import { at, webhookInput } from './contract/store-fixtures.js'
import { TEST_DATABASE_URL, dropSchema, randomSchemaName } from './helpers/postgres.js'

interface Existing {
  workspaceId: string
  global: NewWebhook
  persona: NewWebhook
  disabled: NewWebhook
  deleted: NewWebhook
  inline: NewWebhook
  jobId: string
}

function existing (): Existing {
  const workspaceId = newId('ws')
  const jobId = newId('job')
  return {
    workspaceId,
    jobId,
    global: webhookInput(workspaceId, { events: ['call.started', '*'] }),
    persona: webhookInput(workspaceId, { events: ['call.started'], scopeType: 'persona', personaId: 'per_a' }),
    disabled: webhookInput(workspaceId, { events: ['call.ended'], enabled: false }),
    deleted: webhookInput(workspaceId, { events: ['*'] }),
    inline: webhookInput(workspaceId, { events: ['*'], jobId }),
  }
}

async function assertRoutes (store: Store, before: Existing): Promise<void> {
  const ids = async (filters: string[], personaId: string | null): Promise<string[]> =>
    (await store.routeWebhooks(before.workspaceId, filters, personaId)).map((w) => w.id)
  assert.deepEqual(await ids(['call.started', '*'], null), [before.global.id])
  assert.deepEqual(await ids(['call.started', '*'], 'per_a'), [before.global.id, before.persona.id])
  assert.deepEqual(await ids(['call.ended', '*'], null), [before.global.id, before.disabled.id])
  assert.deepEqual(await ids(['call.started'], 'per_a'), [before.global.id, before.persona.id])
  // Writes after the upgrade keep the index in step.
  await store.updateWebhook(before.workspaceId, before.global.id, { events: ['call.ended'] }, at(100))
  assert.deepEqual(await ids(['call.started', '*'], null), [])
}

test('sqlite: migration 0002 fills the routing index from existing webhooks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-routes-'))
  try {
    const path = join(dir, 'webhooks.db')
    const before = existing()
    const db = new Database(path)
    try {
      migrate(db, [sqlite0001])
      // Rows as schema 0001 had them (today's queries write columns of later migrations).
      const insert = db.prepare(`INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type,
        persona_id, enabled, job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at, deleted_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      const hooks = [before.global, before.persona, before.disabled, before.deleted, before.inline]
      for (const [i, hook] of hooks.entries()) {
        insert.run(hook.id, hook.workspaceId, hook.url, JSON.stringify(hook.events), hook.name, hook.signingMethod, hook.secret,
          hook.scopeType, hook.personaId, hook.enabled ? 1 : 0, hook.jobId, hook.timeoutMs, hook.maxRetries, hook.backoffMs,
          at(i).getTime(), at(i).getTime(), hook === before.deleted ? at(10).getTime() : null)
      }
      db.prepare('INSERT INTO calls (workspace_id, job_id, persona_id, has_inline_webhooks, created_at) VALUES (?, ?, NULL, 1, ?)')
        .run(before.workspaceId, before.jobId, at(11).getTime())
      const table = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'webhook_routes'").get()
      assert.equal(table?.n, 0, 'schema 0001 has no routing index yet')
    } finally {
      db.close()
    }
    const store = await createSqliteStore({ path })
    try {
      await assertRoutes(store, before)
    } finally {
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('postgres: migration 0002 fills the routing index from existing webhooks', async () => {
  const schema = randomSchemaName()
  const before = existing()
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA ${schema}`)
    await client.query(postgres0001.sql)
    await client.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)')
    await client.query("INSERT INTO schema_migrations VALUES (1, 'init', 0)")
    await client.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, 0)', [before.workspaceId, 'Acme'])
    const hooks = [before.global, before.persona, before.disabled, before.inline]
    for (const [i, hook] of hooks.entries()) {
      await client.query(
        `INSERT INTO webhooks (id, workspace_id, url, events, name, signing_method, secret, scope_type, persona_id,
           enabled, job_id, timeout_ms, max_retries, backoff_ms, created_at, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)`,
        [hook.id, hook.workspaceId, hook.url, JSON.stringify(hook.events), hook.name, hook.signingMethod, hook.secret,
          hook.scopeType, hook.personaId, hook.enabled, hook.jobId, hook.timeoutMs, hook.maxRetries, hook.backoffMs, at(i).getTime()])
    }
  } finally {
    await client.end()
  }
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema })
  try {
    await assertRoutes(store, before)
  } finally {
    await store.close()
    await dropSchema(schema)
  }
})
