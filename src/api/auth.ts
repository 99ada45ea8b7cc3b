/**
 * API keys (contract §4: `X-API-Key` on every call). Keys are random tokens — `kw_…` for a
 * workspace, `ka_…` for the admin — stored only as their sha256; a request's key is hashed,
 * looked up by hash, and the hashes compared in constant time.
 *
 * Workspace keys reach their own workspace only: another workspace's objects are 404, never 403.
 * The admin key manages workspaces and keys; it is not a key of any workspace, so workspace
 * routes answer it with 403 FORBIDDEN (and admin routes answer a workspace key the same way).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { ServiceError } from '../errors.js'
import type { ApiKey, Store } from '../store/store.js'
import { newId, newToken } from '../util/ids.js'

export type Principal =
  | { kind: 'admin', keyId: string }
  | { kind: 'workspace', workspaceId: string, keyId: string }

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

export const WORKSPACE_KEY_PREFIX = 'kw'
export const ADMIN_KEY_PREFIX = 'ka'
/** Longer headers are not keys of ours; refuse them without a lookup. */
const MAX_KEY_LENGTH = 256

export function hashKey (key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
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

export async function authenticate (store: Store, header: string | string[] | undefined): Promise<Principal> {
  if (header === undefined || header === '') throw unauthorized('missing API key: send it in the X-API-Key header')
  const key = Array.isArray(header) ? header[0] ?? '' : header
  if (key.length > MAX_KEY_LENGTH) throw unauthorized('invalid API key')
  const hash = hashKey(key)
  const row = await store.findApiKeyByHash(hash)
  if (row === null || row.revokedAt !== null) throw unauthorized('invalid API key')
  // The lookup is by hash already; compare again in constant time so no code path depends on
  // how much of the hash matched.
  if (!timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) throw unauthorized('invalid API key')
  return row.workspaceId === null
    ? { kind: 'admin', keyId: row.id }
    : { kind: 'workspace', workspaceId: row.workspaceId, keyId: row.id }
}

/** The caller's workspace id; 403 for the admin key. */
export function workspaceOf (request: FastifyRequest): string {
  const principal = request.principal
  if (principal === null) throw unauthorized('missing API key: send it in the X-API-Key header')
  if (principal.kind !== 'workspace') {
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
