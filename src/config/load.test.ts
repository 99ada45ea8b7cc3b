import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolveConfig } from './load.js'
import { SETTINGS } from './schema.js'
import { DEFAULTS } from './defaults.js'

test('with nothing set every setting has its default', () => {
  const config = resolveConfig({ env: {}, flags: {} })
  assert.equal(config.port, 8080)
  assert.equal(config.host, '127.0.0.1')
  assert.equal(config.dataDir, './data')
  assert.equal(config.databaseUrl, null)
  assert.equal(config.adminKey, null)
  assert.equal(config.allowPrivateNetworks, false)
  assert.equal(config.logLevel, 'info')
  assert.equal(config.bodyLimitBytes, 1024 * 1024)
  assert.deepEqual(config.engine, { ...DEFAULTS.engine })
})

test('env overrides defaults and flags override env', () => {
  const env = { KEJUE_PORT: '9000', KEJUE_HOST: '0.0.0.0', KEJUE_ALLOW_PRIVATE_NETWORKS: 'true', KEJUE_MAX_IN_FLIGHT: '8', KEJUE_LOG_LEVEL: 'DEBUG' }
  const fromEnv = resolveConfig({ env })
  assert.equal(fromEnv.port, 9000)
  assert.equal(fromEnv.host, '0.0.0.0')
  assert.equal(fromEnv.allowPrivateNetworks, true)
  assert.equal(fromEnv.engine.maxInFlight, 8)
  assert.equal(fromEnv.logLevel, 'debug')
  const fromFlags = resolveConfig({ env, flags: { port: '0', allowPrivateNetworks: false, host: undefined } })
  assert.equal(fromFlags.port, 0)
  assert.equal(fromFlags.allowPrivateNetworks, false)
  assert.equal(fromFlags.host, '0.0.0.0')
})

test('KEJUE_DATABASE_URL wins over DATABASE_URL, which is honoured too', () => {
  assert.equal(resolveConfig({ env: { DATABASE_URL: 'postgres://a@127.0.0.1/x' } }).databaseUrl, 'postgres://a@127.0.0.1/x')
  assert.equal(resolveConfig({ env: { DATABASE_URL: 'postgres://a@h/x', KEJUE_DATABASE_URL: 'postgresql://b@h/y' } }).databaseUrl, 'postgresql://b@h/y')
})

test('a bad value names the setting and where it came from', () => {
  assert.throws(() => resolveConfig({ env: { KEJUE_PORT: 'abc' } }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CONFIG_INVALID')
    assert.equal(err.message, 'KEJUE_PORT (env) must be an integer 0–65535, got "abc"')
    return true
  })
  assert.throws(() => resolveConfig({ flags: { port: '70000' } }), /--port \(flag\) must be an integer 0–65535, got "70000"/)
  assert.throws(() => resolveConfig({ env: { KEJUE_ALLOW_PRIVATE_NETWORKS: 'maybe' } }), /KEJUE_ALLOW_PRIVATE_NETWORKS \(env\) must be true or false/)
  assert.throws(() => resolveConfig({ env: { KEJUE_LOG_LEVEL: 'loud' } }), /KEJUE_LOG_LEVEL \(env\) must be one of/)
  assert.throws(() => resolveConfig({ env: { KEJUE_MAX_IN_FLIGHT: '0' } }), /KEJUE_MAX_IN_FLIGHT \(env\)/)
  assert.throws(() => resolveConfig({ env: { DATABASE_URL: 'mysql://x' } }), /DATABASE_URL \(env\) must be a postgres/)
})

test('every problem is reported at once, and secrets are never echoed', () => {
  assert.throws(() => resolveConfig({ env: { KEJUE_PORT: '-1', KEJUE_ADMIN_KEY: 'short-secret' } }), (err: Error) => {
    assert.match(err.message, /KEJUE_PORT/)
    assert.match(err.message, /KEJUE_ADMIN_KEY \(env\) must be at least 16 characters/)
    assert.ok(!err.message.includes('short-secret'))
    return true
  })
  assert.throws(() => resolveConfig({ env: { KEJUE_DATABASE_URL: 'https://user:hunter2@db' } }), (err: Error) => !err.message.includes('hunter2'))
})

test('docs/configuration.md lists every setting', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  for (const setting of SETTINGS) {
    for (const name of setting.env) assert.ok(doc.includes(`\`${name}\``), `${name} missing from docs/configuration.md`)
    if (setting.flagSyntax !== undefined) assert.ok(doc.includes(setting.flagSyntax.split(' ')[0] ?? ''), `${setting.flagSyntax} missing`)
  }
})
