/**
 * Every setting of the service: its key, where it may come from (env names, CLI flag), how its
 * text is parsed and checked, and its default (from defaults.ts). docs/configuration.md lists the
 * same table; a unit test keeps the two in step.
 */
import { DEFAULTS } from './defaults.js'
import { DEFAULT_OUTCOME_WEIGHTS, parseOutcomeWeights } from './outcome-weights.js'
import { decodeEncryptionKeys } from './encryption-keys.js'
import type { OutcomeWeights } from './outcome-weights.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** What a `serve` process runs: the API and the delivery engine, or one of them (scale-out). */
export const ROLES = ['all', 'api', 'worker'] as const
export type Role = (typeof ROLES)[number]

export interface ResolvedEngineConfig {
  maxInFlight: number
  maxInFlightPerWebhook: number
  claimBatch: number
  leaseMs: number
  shutdownGraceMs: number
  /** Attempts sent from a worker thread (sender-thread.ts). */
  senderThread: boolean
  /** Nice steps the sender thread lowers its CPU priority by (thread-priority.ts). */
  senderThreadNice: number
  responseExcerptBytes: number
}

/** The sandbox's simulator (docs/sandbox.md); off in production. */
export interface ResolvedSimulatorConfig {
  enabled: boolean
  /** Simulated time runs this many times faster than real time. */
  speed: number
  /** Fixes every random draw; null draws fresh ones. */
  seed: number | null
  outcomeWeights: OutcomeWeights
}

/** The service's configuration with every field present (the output of resolveConfig). */
export interface ResolvedConfig {
  role: Role
  port: number
  host: string
  dataDir: string
  /** `postgres://…` switches to PostgreSQL; null means the embedded SQLite store under dataDir. */
  databaseUrl: string | null
  /** Set by the operator; null means one is generated and printed at first start. */
  adminKey: string | null
  allowPrivateNetworks: boolean
  /** KEJUE_ENCRYPTION_KEY as given (checked); null means the key file in dataDir. */
  encryptionKey: string | null
  /** Settled deliveries older than this many days are pruned; 0 keeps everything. */
  retentionDays: number
  logLevel: LogLevel
  bodyLimitBytes: number
  /** How long an event batch may wait for company after the previous one; 0 = the next turn. */
  commitGatherMs: number
  databaseQueryTimeoutMs: number
  /** Base of portal links (POST /portal-sessions); null = the address the service listens on. */
  publicUrl: string | null
  /** Origins allowed to frame the dashboard (CSP frame-ancestors); empty = none. */
  portalFrameAncestors: string[]
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | null
  /** Per-webhook attempt counters on /metrics (one series per webhook and outcome). */
  metricsPerWebhook: boolean
  engine: ResolvedEngineConfig
  /** Endpoint health: the breaker and auto-disable (docs/delivery.md, "The life of an endpoint"). */
  health: ResolvedHealthConfig
  simulator: ResolvedSimulatorConfig
}

export interface ResolvedHealthConfig {
  breakerThreshold: number
  breakerCooldownMs: number
  autoDisableMinFailures: number
  autoDisableAfterMs: number
}

/** A value's text and where it came from, for error messages. */
export interface RawValue {
  text: string | boolean
  /** e.g. `KEJUE_PORT (env)` or `--port (flag)`. */
  origin: string
}

type Parser = (raw: RawValue) => unknown

export interface SettingDefinition {
  /** Dotted key into ResolvedConfig, e.g. `engine.maxInFlight`. */
  key: string
  /** Env names, first wins. */
  env: readonly string[]
  /** The commander option name (camelCase as in `program.opts()`), when there is a flag. */
  flag?: string
  flagSyntax?: string
  description: string
  defaultValue: unknown
  parse: Parser
}

export class SettingValueError extends Error {}

function fail (raw: RawValue, expectation: string): never {
  // Secrets are never echoed: callers mark them with `secret` parsers that omit the value.
  throw new SettingValueError(`${raw.origin} ${expectation}, got ${JSON.stringify(String(raw.text))}`)
}

export function integer (min: number, max: number): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    if (!/^-?\d+$/.test(text)) fail(raw, `must be an integer ${min}–${max}`)
    const value = Number(text)
    if (!Number.isSafeInteger(value) || value < min || value > max) fail(raw, `must be an integer ${min}–${max}`)
    return value
  }
}

export function boolean (): Parser {
  return (raw) => {
    if (typeof raw.text === 'boolean') return raw.text
    const text = raw.text.trim().toLowerCase()
    if (['true', '1', 'yes', 'on'].includes(text)) return true
    if (['false', '0', 'no', 'off', ''].includes(text)) return false
    return fail(raw, 'must be true or false')
  }
}

function positiveNumber (max: number): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    const value = Number(text)
    if (!/^[0-9]*\.?[0-9]+$/.test(text) || !(value > 0) || value > max) fail(raw, `must be a number above 0, at most ${max}`)
    return value
  }
}

function optionalSeed (): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    if (text === '') return null
    return integer(0, 4_294_967_295)(raw)
  }
}

function outcomeWeights (): Parser {
  return (raw) => {
    try {
      return parseOutcomeWeights(String(raw.text))
    } catch (err) {
      return fail(raw, `must be outcome=weight pairs such as completed=0.6,no_answer=0.2 (${err instanceof Error ? err.message : String(err)})`)
    }
  }
}

function nonEmptyString (): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    if (text === '') fail(raw, 'must not be empty')
    return text
  }
}

function oneOf (values: readonly string[]): Parser {
  return (raw) => {
    const text = String(raw.text).trim().toLowerCase()
    if (!values.includes(text)) fail(raw, `must be one of ${values.join(', ')}`)
    return text
  }
}

function databaseUrl (): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    if (text === '') return null
    // The value may hold a password: never echo it.
    if (!/^postgres(ql)?:\/\//i.test(text)) throw new SettingValueError(`${raw.origin} must be a postgres:// or postgresql:// URL`)
    try {
      new URL(text)
    } catch {
      throw new SettingValueError(`${raw.origin} is not a valid URL`)
    }
    return text
  }
}

function adminKey (): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    if (text === '') return null
    // Never echo the key itself.
    if (text.length < 16) throw new SettingValueError(`${raw.origin} must be at least 16 characters long`)
    if (!/^[\x21-\x7e]+$/.test(text)) throw new SettingValueError(`${raw.origin} must be printable ASCII without spaces`)
    return text
  }
}

function encryptionKeys (): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    if (text === '') return null
    try {
      decodeEncryptionKeys(text)
    } catch (err) {
      // Never echo a key.
      throw new SettingValueError(`${raw.origin} ${err instanceof Error ? err.message : String(err)}`)
    }
    return text
  }
}

function publicUrl (): Parser {
  return (raw) => {
    const text = String(raw.text).trim().replace(/\/+$/, '')
    if (text === '') return null
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return fail(raw, 'must be an http(s) URL such as https://hooks.example.com')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(raw, 'must be an http(s) URL such as https://hooks.example.com')
    return text
  }
}

function nonNegativeNumber (max: number): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    const value = Number(text)
    if (!/^[0-9]*\.?[0-9]+$/.test(text) || value > max) fail(raw, `must be a number from 0 to ${max}`)
    return value
  }
}

function originList (): Parser {
  return (raw) => {
    const origins = String(raw.text).split(/[\s,]+/).filter((o) => o !== '')
    for (const origin of origins) {
      // CSP source expressions: an origin (scheme://host[:port], host may start with *.) or 'self'.
      if (origin !== "'self'" && !/^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(origin)) {
        fail(raw, 'must be a comma-separated list of origins such as https://app.example.com')
      }
    }
    return origins
  }
}

function optionalToken (): Parser {
  return (raw) => {
    const text = String(raw.text).trim()
    if (text === '') return null
    // Never echo the token itself.
    if (text.length < 16 || !/^[\x21-\x7e]+$/.test(text)) throw new SettingValueError(`${raw.origin} must be at least 16 printable ASCII characters without spaces`)
    return text
  }
}

const E = DEFAULTS.engine

export const SETTINGS: readonly SettingDefinition[] = [
  { key: 'role', env: ['KEJUE_ROLE'], flag: 'role', flagSyntax: '--role <role>', description: 'all (API and delivery engine), api (API only) or worker (delivery engine only)', defaultValue: 'all', parse: oneOf(ROLES) },
  { key: 'port', env: ['KEJUE_PORT'], flag: 'port', flagSyntax: '--port <n>', description: 'TCP port of the API (0 picks a free one)', defaultValue: DEFAULTS.api.port, parse: integer(0, 65_535) },
  { key: 'host', env: ['KEJUE_HOST'], flag: 'host', flagSyntax: '--host <addr>', description: 'Address to bind; 0.0.0.0 exposes the API to the network', defaultValue: DEFAULTS.api.host, parse: nonEmptyString() },
  { key: 'dataDir', env: ['KEJUE_DATA_DIR'], flag: 'dataDir', flagSyntax: '--data-dir <dir>', description: `Directory of the embedded SQLite store (${DEFAULTS.store.sqliteFile})`, defaultValue: DEFAULTS.store.dataDir, parse: nonEmptyString() },
  { key: 'databaseUrl', env: ['KEJUE_DATABASE_URL', 'DATABASE_URL'], flag: 'databaseUrl', flagSyntax: '--database-url <url>', description: 'postgres://… switches the store to PostgreSQL', defaultValue: null, parse: databaseUrl() },
  { key: 'databaseQueryTimeoutMs', env: ['KEJUE_DATABASE_QUERY_TIMEOUT_MS'], description: 'PostgreSQL only: how long the service waits for a statement\'s answer before it drops the statement and its connection (the caller gets 503 STORE_UNAVAILABLE): bounds the wait on a connection that went silent. Bulk statements (a webhook\'s whole backlog) wait up to 30 minutes', defaultValue: DEFAULTS.store.postgresQueryTimeoutMs, parse: integer(1_000, 600_000) },
  { key: 'adminKey', env: ['KEJUE_ADMIN_KEY'], description: 'The admin key (≥ 16 characters); generated and printed once at first start when unset', defaultValue: null, parse: adminKey() },
  { key: 'allowPrivateNetworks', env: ['KEJUE_ALLOW_PRIVATE_NETWORKS'], flag: 'allowPrivateNetworks', flagSyntax: '--allow-private-networks', description: 'Allow webhook URLs on loopback, private and link-local addresses (local development and tests only)', defaultValue: false, parse: boolean() },
  { key: 'encryptionKey', env: ['KEJUE_ENCRYPTION_KEY'], description: 'Key(s) encrypting stored webhook secrets: 32 bytes as 64 hex digits or base64; a comma-separated list encrypts with the first and decrypts with any. Unset: <KEJUE_DATA_DIR>/encryption.key, created at first start', defaultValue: null, parse: encryptionKeys() },
  { key: 'retentionDays', env: ['KEJUE_RETENTION_DAYS'], description: 'Days settled deliveries, their attempts and events are kept (decimals allowed, 0 = forever)', defaultValue: DEFAULTS.retention.days, parse: nonNegativeNumber(36_500) },
  { key: 'logLevel', env: ['KEJUE_LOG_LEVEL'], flag: 'logLevel', flagSyntax: '--log-level <level>', description: `Log level: ${LOG_LEVELS.join(', ')}`, defaultValue: 'info', parse: oneOf(LOG_LEVELS) },
  { key: 'bodyLimitBytes', env: ['KEJUE_BODY_LIMIT_BYTES'], description: 'Largest accepted request body', defaultValue: DEFAULTS.api.bodyLimitBytes, parse: integer(1_024, 64 * 1024 * 1024) },
  { key: 'commitGatherMs', env: ['KEJUE_COMMIT_GATHER_MS'], description: 'How long a batch of accepted events may wait for more after the previous batch (0: none). Less CPU per event at moderate rates from many producers, up to this much more latency; see docs/configuration.md before setting it', defaultValue: DEFAULTS.store.commitGatherMs, parse: integer(0, 50) },
  { key: 'publicUrl', env: ['KEJUE_PUBLIC_URL'], description: 'Base URL of portal links (POST /portal-sessions); unset: the address the service listens on', defaultValue: null, parse: publicUrl() },
  { key: 'portalFrameAncestors', env: ['KEJUE_PORTAL_FRAME_ANCESTORS'], description: 'Comma-separated origins allowed to embed the dashboard in a frame (unset: no framing)', defaultValue: [], parse: originList() },
  { key: 'metricsToken', env: ['KEJUE_METRICS_TOKEN'], description: 'When set (≥ 16 characters), GET /metrics needs Authorization: Bearer <token>', defaultValue: null, parse: optionalToken() },
  { key: 'metricsPerWebhook', env: ['KEJUE_METRICS_PER_WEBHOOK'], description: 'Per-webhook attempt counters on /metrics (one series per webhook and outcome; off for workspaces with many webhooks)', defaultValue: false, parse: boolean() },
  { key: 'engine.maxInFlight', env: ['KEJUE_MAX_IN_FLIGHT'], description: 'Attempts in flight at once, all webhooks together', defaultValue: E.maxInFlight, parse: integer(1, 10_000) },
  { key: 'engine.maxInFlightPerWebhook', env: ['KEJUE_MAX_IN_FLIGHT_PER_WEBHOOK'], description: 'Attempts in flight at once to one webhook, so a slow endpoint cannot take every slot', defaultValue: E.maxInFlightPerWebhook, parse: integer(1, 10_000) },
  { key: 'engine.claimBatch', env: ['KEJUE_CLAIM_BATCH'], description: 'Deliveries claimed from the store per query', defaultValue: E.claimBatch, parse: integer(1, 10_000) },
  { key: 'engine.leaseMs', env: ['KEJUE_LEASE_MS'], description: 'How long a claimed delivery stays leased without renewal (crash recovery time)', defaultValue: E.leaseMs, parse: integer(1_000, 30_000) },
  { key: 'engine.senderThread', env: ['KEJUE_SENDER_THREAD'], description: 'Send attempts from a worker thread of their own, off the event loop of the API and the engine (false: on it)', defaultValue: E.senderThread, parse: boolean() },
  { key: 'engine.senderThreadNice', env: ['KEJUE_SENDER_THREAD_NICE'], description: 'How many nice steps the sender thread lowers its CPU priority by, so that on a busy machine the event loop (API and engine) runs first (Linux; 0: the same priority)', defaultValue: E.senderThreadNice, parse: integer(0, 19) },
  { key: 'engine.shutdownGraceMs', env: ['KEJUE_SHUTDOWN_GRACE_MS'], description: 'How long SIGTERM waits for attempts in flight before handing them back', defaultValue: E.shutdownGraceMs, parse: integer(0, 120_000) },
  { key: 'health.breakerThreshold', env: ['KEJUE_BREAKER_THRESHOLD'], description: 'Failed attempts in a row to one webhook that open its breaker (0 turns the breaker off)', defaultValue: DEFAULTS.health.breakerThreshold, parse: integer(0, 1_000_000) },
  { key: 'health.breakerCooldownMs', env: ['KEJUE_BREAKER_COOLDOWN_MS'], description: 'How long an open breaker waits before its probe; doubles after each failed probe, up to 20 times', defaultValue: DEFAULTS.health.breakerCooldownMs, parse: integer(100, 86_400_000) },
  { key: 'health.autoDisableMinFailures', env: ['KEJUE_AUTO_DISABLE_MIN_FAILURES'], description: 'Deliveries in a row that ended failed before a webhook is disabled (0: never)', defaultValue: DEFAULTS.health.autoDisableMinFailures, parse: integer(0, 1_000_000_000) },
  { key: 'health.autoDisableAfterMs', env: ['KEJUE_AUTO_DISABLE_AFTER_MS'], description: '…the first of them created more than this long ago', defaultValue: DEFAULTS.health.autoDisableAfterMs, parse: integer(0, 365 * 86_400_000) },
  { key: 'simulator.enabled', env: ['KEJUE_SIMULATOR'], flag: 'simulate', flagSyntax: '--simulate', description: 'Sandbox: dial calls created with POST /persona-calls and serve /campaigns with simulated outcomes (docs/sandbox.md)', defaultValue: false, parse: boolean() },
  { key: 'simulator.speed', env: ['KEJUE_SIMULATOR_SPEED'], flag: 'simulateSpeed', flagSyntax: '--simulate-speed <x>', description: 'Sandbox: simulated time runs this many times faster than real time', defaultValue: 1, parse: positiveNumber(1_000_000) },
  { key: 'simulator.seed', env: ['KEJUE_SIMULATOR_SEED'], flag: 'simulateSeed', flagSyntax: '--simulate-seed <n>', description: 'Sandbox: fixes every random draw (unset: random)', defaultValue: null, parse: optionalSeed() },
  { key: 'simulator.outcomeWeights', env: ['KEJUE_SIMULATOR_OUTCOMES'], flag: 'simulateOutcomes', flagSyntax: '--simulate-outcomes <weights>', description: 'Sandbox: relative weights of call outcomes, e.g. completed=0.6,no_answer=0.18,busy=0.07,failed=0.05,voicemail=0.1', defaultValue: DEFAULT_OUTCOME_WEIGHTS, parse: outcomeWeights() },
  { key: 'engine.responseExcerptBytes', env: ['KEJUE_RESPONSE_EXCERPT_BYTES'], description: 'How much of each response body is kept in the delivery log', defaultValue: E.responseExcerptBytes, parse: integer(0, 1024 * 1024) },
]
