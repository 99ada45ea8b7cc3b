/**
 * Stored secrets are encrypted (docs/storage.md, "Encryption at rest"): no secret in any byte of
 * the SQLite files (WAL included) or of a pg_dump; a wrong key stops the start; clear secrets of
 * an older store are sealed on upgrade; several keys and `reencrypt`; a private data dir.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { openStore, reencryptSecrets } from '../../src/store/open-store.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { KEY_FILE } from '../../src/store/secrets/keyring.js'
import { webhookInput, workspace, at } from '../contract/store-fixtures.js'
import { TEST_DATABASE_URL, dropSchema, randomSchemaName } from '../helpers/postgres.js'
import { postgresUrlFor, startSealedStack } from '../helpers/sealed-stack.js'
import type { Driver } from '../helpers/sealed-stack.js'

const run = promisify(execFile)

function key (): string {
  return randomBytes(32).toString('base64')
}

/** Every byte of every file under `dir`. */
function filesOf (dir: string): Array<{ name: string, bytes: Buffer }> {
  return readdirSync(dir).filter((name) => statSync(join(dir, name)).isFile()).map((name) => ({ name, bytes: readFileSync(join(dir, name)) }))
}

function assertAbsent (haystacks: Array<{ name: string, bytes: Buffer }>, secrets: readonly string[]): void {
  for (const { name, bytes } of haystacks) {
    for (const secret of secrets) assert.equal(bytes.includes(Buffer.from(secret, 'utf8')), false, `${secret} found in ${name}`)
  }
}

async function pgDump (schema: string): Promise<Buffer> {
  const { stdout } = await run('pg_dump', ['--dbname', TEST_DATABASE_URL, '--schema', schema, '--data-only', '--inserts'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })
  return stdout
}

/**
 * Webhooks with every kind of secret, through the API: create, rotate with overlap, PATCH, inline;
 * custom header values (docs/api.md, "Subscription options") on create and PATCH.
 */
async function makeSecrets (call: (method: 'POST' | 'PATCH', url: string, body: unknown) => Promise<{ statusCode: number, body: string, json: <T>() => T }>, url: string): Promise<string[]> {
  const tag = randomBytes(6).toString('hex')
  const secrets = [`whsec_created_${tag}`, `whsec_rotated_${tag}`, `bearer_${tag}`, `user:pass_${tag}`, `whsec_patched_${tag}`, `whsec_inline_${tag}`,
    `header_created_${tag}`, `header_patched_${tag}`]
  const a = await call('POST', '/api/v1/webhooks', { url, events: ['call.ended'], secret: secrets[0] })
  assert.equal(a.statusCode, 201, a.body)
  const id = a.json<{ id: string }>().id
  assert.equal((await call('POST', `/api/v1/webhooks/${id}/rotate-secret`, { secret: secrets[1] })).statusCode, 200)
  assert.equal((await call('POST', '/api/v1/webhooks', { url, events: ['*'], signing_method: 'bearer', secret: secrets[2] })).statusCode, 201)
  const basic = await call('POST', '/api/v1/webhooks', { url, events: ['*'], signing_method: 'basic_auth', secret: secrets[3] })
  assert.equal(basic.statusCode, 201, basic.body)
  assert.equal((await call('PATCH', `/api/v1/webhooks/${basic.json<{ id: string }>().id}`, { signing_method: 'hmac_sha256', secret: secrets[4] })).statusCode, 200)
  const persona = await call('POST', '/api/v1/persona-calls', { persona_id: 'p_1', contact_id: 'ct_1', config: { webhooks: [{ url, events: ['call.ended'], secret: secrets[5] }] } })
  assert.equal(persona.statusCode, 201, persona.body)
  const withHeaders = await call('POST', '/api/v1/webhooks', { url, events: ['*'], headers: { 'X-Api-Key': secrets[6], 'X-Team': 'ops' } })
  assert.equal(withHeaders.statusCode, 201, withHeaders.body)
  const patched = await call('PATCH', `/api/v1/webhooks/${withHeaders.json<{ id: string }>().id}`, { headers: { 'X-Api-Key': secrets[7] } })
  assert.equal(patched.statusCode, 200, patched.body)
  return secrets
}

/** Runs `fn` with an empty data dir and, for PostgreSQL, a database URL on a fresh schema; removes both after. */
async function inFreshStore (driver: Driver, fn: (dir: string, databaseUrl: string | undefined) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-keys-'))
  const schema = driver === 'postgres' ? randomSchemaName() : null
  try {
    await fn(dir, schema === null ? undefined : await postgresUrlFor(schema))
  } finally {
    rmSync(dir, { recursive: true, force: true })
    if (schema !== null) await dropSchema(schema)
  }
}

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`encryption at rest (${driver})`, () => {
    test(driver === 'sqlite' ? 'no secret in any byte of the SQLite files, WAL included' : 'no secret in a pg_dump of the database', async () => {
      const stack = await startSealedStack(driver)
      try {
        const secrets = await makeSecrets(async (method, url, body) => await stack.call(method, url, body), 'http://127.0.0.1:9/hook')
        if (driver === 'sqlite') {
          // While open: the WAL holds the latest writes.
          assert.ok(existsSync(join(stack.dir, 'webhooks.db-wal')))
          assertAbsent(filesOf(stack.dir), secrets)
        } else {
          const dump = await pgDump(stack.schema ?? '')
          assert.ok(dump.includes(Buffer.from('kejue-enc:v1:')), 'the dump holds the sealed secrets')
          assertAbsent([{ name: 'pg_dump', bytes: dump }], secrets)
        }
        // The service itself still signs with them.
        const webhooks = await stack.store.listWebhooks((await stack.store.listWorkspaces())[0]?.id ?? '')
        assert.ok(webhooks.some((w) => w.secret === secrets[1] && w.previousSecret === secrets[0]))
        assert.ok(webhooks.some((w) => w.headers?.['X-Api-Key'] === secrets[7]), 'the custom header value opens')
      } finally {
        await stack.close()
      }
    })

    test('a key that cannot decrypt the stored secrets stops the start with an error that says so', async () => {
      await inFreshStore(driver, async (dir, databaseUrl) => {
        const right = key()
        const store = await openStore({ dataDir: dir, databaseUrl, encryptionKey: right })
        const ws = workspace()
        await store.createWorkspace(ws)
        await store.createWebhook(webhookInput(ws.id, { secret: 'whsec_guarded' }), at(0))
        await store.close()
        await assert.rejects(openStore({ dataDir: dir, databaseUrl, encryptionKey: key() }), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'CONFIG_INVALID')
          assert.match(err.message, /encryption key cannot decrypt/)
          assert.equal(err.message.includes(right), false)
          return true
        })
        // The right key still opens it.
        const again = await openStore({ dataDir: dir, databaseUrl, encryptionKey: right })
        assert.equal((await again.listWebhooks(ws.id))[0]?.secret, 'whsec_guarded')
        await again.close()
      })
    })

    test('several keys: the first seals, any opens; reencrypt moves every secret to the first', async () => {
      await inFreshStore(driver, async (dir, databaseUrl) => {
        const oldKey = key()
        const newKey = Buffer.from(randomBytes(32)).toString('hex')
        const store = await openStore({ dataDir: dir, databaseUrl, encryptionKey: oldKey })
        const ws = workspace()
        await store.createWorkspace(ws)
        for (let i = 0; i < 3; i++) await store.createWebhook(webhookInput(ws.id, { secret: `whsec_k${i}` }), at(i))
        await store.close()
        const both = `${newKey}, ${oldKey}`
        const listed = await openStore({ dataDir: dir, databaseUrl, encryptionKey: both })
        assert.deepEqual((await listed.listWebhooks(ws.id)).map((w) => w.secret), ['whsec_k0', 'whsec_k1', 'whsec_k2'])
        await listed.close()
        assert.deepEqual(await reencryptSecrets({ dataDir: dir, databaseUrl, encryptionKey: both }), { rewritten: 3, scanned: 3 })
        assert.deepEqual(await reencryptSecrets({ dataDir: dir, databaseUrl, encryptionKey: both }), { rewritten: 0, scanned: 3 }, 'a second run rewrites nothing')
        const newOnly = await openStore({ dataDir: dir, databaseUrl, encryptionKey: newKey })
        assert.deepEqual((await newOnly.listWebhooks(ws.id)).map((w) => w.secret), ['whsec_k0', 'whsec_k1', 'whsec_k2'])
        await newOnly.close()
        await assert.rejects(openStore({ dataDir: dir, databaseUrl, encryptionKey: oldKey }), /cannot decrypt/)
      })
    })
  })
}

test('sqlite: secrets stored in clear by an older release are sealed at start, and no clear copy is left in the files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-upgrade-'))
  try {
    const raw = await createSqliteStore({ path: join(dir, 'webhooks.db') })
    const ws = workspace()
    await raw.createWorkspace(ws)
    await raw.createWebhook(webhookInput(ws.id, { secret: 'whsec_legacy_clear_text', headers: { 'X-Api-Key': 'legacy_clear_header' } }), at(0))
    await raw.close()
    assert.ok(readFileSync(join(dir, 'webhooks.db')).includes('whsec_legacy_clear_text'), 'the old release stored it in clear')
    const logged: string[] = []
    const store = await openStore({ dataDir: dir, logger: { info: (_obj, msg) => { logged.push(msg) } } })
    assert.equal((await store.listWebhooks(ws.id))[0]?.secret, 'whsec_legacy_clear_text')
    assert.deepEqual((await store.listWebhooks(ws.id))[0]?.headers, { 'X-Api-Key': 'legacy_clear_header' })
    await store.close()
    assert.ok(logged.some((m) => /created an encryption key/.test(m)), logged.join('\n'))
    assert.ok(logged.some((m) => /encrypted webhook secrets stored in clear/.test(m)), logged.join('\n'))
    assertAbsent(filesOf(dir), ['whsec_legacy_clear_text', 'legacy_clear_header'])
    assert.equal(statSync(join(dir, KEY_FILE)).mode & 0o777, 0o600)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('sqlite: the data dir is tightened to 0700 and its files to 0600; the key file is reused', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kejue-perms-')), 'data')
  mkdirSync(dir, { mode: 0o755 })
  chmodSync(dir, 0o755)
  writeFileSync(join(dir, 'leftover.txt'), 'x', { mode: 0o644 })
  try {
    const store = await openStore({ dataDir: dir })
    const ws = workspace()
    await store.createWorkspace(ws)
    await store.createWebhook(webhookInput(ws.id, { secret: 'whsec_perm' }), at(0))
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name)
    await store.close()
    const firstKey = readFileSync(join(dir, KEY_FILE), 'utf8')
    const reopened = await openStore({ dataDir: dir })
    assert.equal((await reopened.listWebhooks(ws.id))[0]?.secret, 'whsec_perm')
    await reopened.close()
    assert.equal(readFileSync(join(dir, KEY_FILE), 'utf8'), firstKey)
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true })
  }
})
