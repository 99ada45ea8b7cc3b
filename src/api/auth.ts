/**
 * API keys (docs/api.md: `X-API-Key` on every call). Keys are random tokens — `kw_…` for a
 * workspace, `ka_…` for the admin — stored only as their sha256; a request's key is hashed,
 * looked up by hash, and the hashes compared in constant time.
 *
 * Found keys are cached for a few seconds (createAuthenticator).
 *
 * Portal tokens (`kp_…`, docs/api.md "Portal sessions") are looked up the same way in the portal
 * sessions; what they may reach is decided in ./portal.ts. Every credential may come as
 * `X-API-Key` or as `Authorization: Bearer`.
 *
 * Workspace keys reach their own workspace only: another workspace's objects are 404, never 403.
 * The admin key manages workspaces and keys; it is not a key of any workspace, so workspace
 * routes answer it with 403 FORBIDDEN (and admin routes answer a workspace key the same way).
 */
import { hash as oneShotHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { DEFAULTS } from '../config/defaults.js'
import { ServiceError } from '../errors.js'
import type { ApiKey, Store } from '../store/store.js'
import { newId, newToken } from '../util/ids.js'

export type Principal =
  | { kind: 'admin', keyId: string }
  | { kind: 'workspace', workspaceId: string, keyId: string }
  | { kind: 'portal', workspaceId: string, sessionId: string, personaId: string | null, readOnly: boolean, expiresAt: number }

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

export const WORKSPACE_KEY_PREFIX = 'kw'
export const ADMIN_KEY_PREFIX = 'ka'
export const PORTAL_TOKEN_PREFIX = 'kp'
/** Longer headers are not keys of ours; refuse them without a lookup. */
const MAX_KEY_LENGTH = 256

export function hashKey (key: string): string {
  // One-shot: a third of createHash's cost, paid by every request.
  return oneShotHash('sha256', key, 'hex')
}

/** A new key: the token to show once, and the row to store (its hash and a short prefix). */
export function makeApiKey (workspaceId: string | null, now: Date = new Date(), token?: string): { token: string, row: ApiKey } {
  const key = token ?? newToken(workspaceId === null ? ADMIN_KEY_PREFIX : WORKSPACE_KEY_PREFIX)
  return {
    token: key,
    row: {
      id: newId('key'),
      workspaceId,
      hash: hashKey(key),
      // Enough to tell keys apart in a listing, far too little to guess the rest.
      prefix: key.slice(0, 7),
      createdAt: now,
      revokedAt: null,
    },
  }
}

function unauthorized (message: string): ServiceError {
  return new ServiceError('UNAUTHORIZED', message)
}

/**
 * How long a key found in the store is trusted without asking the store again. A key revoked
 * through this process's API stops working at once (the revoke clears the cache); one revoked by
 * another process (several processes on one PostgreSQL) stops working here within this time.
 * docs/api.md says so.
 */
export const KEY_CACHE_TTL_MS = DEFAULTS.api.keyCacheTtlMs
/** Bounds the cache's memory; past this many keys it starts over. */
const KEY_CACHE_MAX = 10_000

/** The credential of a request: `X-API-Key`, else `Authorization: Bearer`. */
export function credentialOf (headers: { 'x-api-key'?: string | string[], authorization?: string }): string | undefined {
  const key = headers['x-api-key']
  if (key !== undefined && key !== '') return Array.isArray(key) ? key[0] : key
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')
  return match?.[1]
}

export interface Authenticator {
  /** The principal of a credential (X-API-Key or Bearer), or 401. */
  authenticate (header: string | string[] | undefined): Promise<Principal>
  /**
   * authenticate's answer when the cache has it (or it is a refusal without a lookup), without a
   * promise; undefined when the store must be asked. A busy producer's requests take this path.
   */
  authenticateCached (header: string | string[] | undefined): Principal | undefined
  /** Forget every cached key (after a revoke: the next request asks the store). */
  invalidate (): void
}

/**
 * API key checks with a short cache of sha256(key) → principal, so a busy producer's requests do
 * not each cost a store lookup. Only keys that were found are cached: a new key works at once and
 * an unknown one always reaches the store.
 */
export function createAuthenticator (store: Store, options: { ttlMs?: number, now?: () => number } = {}): Authenticator {
  const ttlMs = options.ttlMs ?? KEY_CACHE_TTL_MS
  const now = options.now ?? Date.now
  let cache = new Map<string, { principal: Principal, until: number }>()
  // Bumped by every invalidate, so a lookup that started before a revoke does not cache its result.
  let generation = 0

  /** The key of a header, or a refusal that needs no lookup. */
  function keyOf (header: string | string[] | undefined): string {
    if (header === undefined || header === '') throw unauthorized('missing API key: send it in the X-API-Key header')
    const key = Array.isArray(header) ? header[0] ?? '' : header
    if (key.length > MAX_KEY_LENGTH) throw unauthorized('invalid API key')
    return key
  }

  function fromCache (hash: string): Principal | undefined {
    const cached = cache.get(hash)
    return cached !== undefined && cached.until > now() ? live(cached.principal, now()) : undefined
  }

  return {
    authenticateCached (header) {
      return fromCache(hashKey(keyOf(header)))
    },
    async authenticate (header) {
      const key = keyOf(header)
      const hash = hashKey(key)
      const cached = fromCache(hash)
      if (cached !== undefined) return cached
      const started = generation
      const principal = key.startsWith(`${PORTAL_TOKEN_PREFIX}_`) ? await lookUpPortal(store, hash, now()) : await lookUp(store, hash)
      if (started === generation) {
        if (cache.size >= KEY_CACHE_MAX) cache = new Map()
        cache.set(hash, { principal, until: now() + ttlMs })
      }
      return principal
    },
    invalidate () {
      generation++
      cache = new Map()
    },
  }
}

/** A cached portal principal stops working at its expiry, whatever the cache says. */
function live (principal: Principal, at: number): Principal {
  if (principal.kind === 'portal' && principal.expiresAt <= at) throw unauthorized('this portal link has expired')
  return principal
}

async function lookUpPortal (store: Store, hash: string, at: number): Promise<Principal> {
  const row = await store.findPortalSessionByHash(hash)
  if (row === null || row.revokedAt !== null) throw unauthorized('invalid or revoked portal token')
  if (!timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) throw unauthorized('invalid portal token')
  if (row.expiresAt.getTime() <= at) throw unauthorized('this portal link has expired')
  return {
    kind: 'portal',
    workspaceId: row.workspaceId,
    sessionId: row.id,
    personaId: row.personaId,
    readOnly: row.readOnly,
    expiresAt: row.expiresAt.getTime(),
  }
}

async function lookUp (store: Store, hash: string): Promise<Principal> {
  const row = await store.findApiKeyByHash(hash)
  if (row === null || row.revokedAt !== null) throw unauthorized('invalid API key')
  // The lookup is by hash already; compare again in constant time so no code path depends on
  // how much of the hash matched.
  if (!timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) throw unauthorized('invalid API key')
  return row.workspaceId === null
    ? { kind: 'admin', keyId: row.id }
    : { kind: 'workspace', workspaceId: row.workspaceId, keyId: row.id }
}

/**
 * The caller's workspace id; 403 for the admin key. A portal token gets here only on the routes
 * ./portal.ts lets it reach.
 */
export function workspaceOf (request: FastifyRequest): string {
  const principal = request.principal
  if (principal === null) throw unauthorized('missing API key: send it in the X-API-Key header')
  if (principal.kind === 'admin') {
    throw new ServiceError('FORBIDDEN', 'this route needs a workspace API key (kw_…); the admin key only manages workspaces and keys')
  }
  return principal.workspaceId
}

export function requireAdmin (request: FastifyRequest): void {
  const principal = request.principal
  if (principal === null) throw unauthorized('missing API key: send it in the X-API-Key header')
  if (principal.kind !== 'admin') {
    throw new ServiceError('FORBIDDEN', 'this route needs the admin key (ka_… or KEJUE_ADMIN_KEY)')
  }
}
