/**
 * What a newcomer needs on first start (docs/configuration.md): a default workspace with an API key and,
 * unless KEJUE_ADMIN_KEY is set, a generated admin key. Keys are stored as hashes only, so they
 * can be printed exactly once: the banner is printed after the server listens, and only then is
 * the start marked done. A start that died before printing makes fresh keys next time (and
 * revokes the unprinted ones) instead of leaving the user without any. Of several processes that
 * start at once on an empty store, one makes and prints the keys; the others print none (each
 * would otherwise revoke the keys another had just printed).
 */
import { randomUUID } from 'node:crypto'
import type { Store, Workspace } from '../store/store.js'
import { hashKey, makeApiKey } from '../api/auth.js'
import { newId } from '../util/ids.js'

const KEYS_SHOWN = 'bootstrap.keys_shown_at'
const DEFAULT_WORKSPACE = 'bootstrap.default_workspace_id'
const UNSHOWN_KEYS = 'bootstrap.unshown_key_ids'
const OPERATOR_ADMIN_KEY = 'bootstrap.operator_admin_key_id'
// "<id> <ISO time>" of the process making the first-start keys. A claim this old belongs to a
// start that died before printing (a start prints within seconds): the next start takes it over.
const FIRST_START_CLAIM = 'bootstrap.first_start_claim'
const CLAIM_STALE_MS = 30_000

export interface FirstStartKeys {
  /** The generated admin key, or null when the operator set KEJUE_ADMIN_KEY. */
  adminKey: string | null
  workspace: Workspace
  workspaceKey: string
}

/**
 * Stores the operator's admin key (its hash) and retires the previous one when it changed. Of
 * processes starting at once with a new key, the first stores it; the others find it stored.
 */
export async function ensureOperatorAdminKey (store: Store, adminKey: string, now: Date = new Date()): Promise<void> {
  if (await store.findApiKeyByHash(hashKey(adminKey)) !== null) return
  const key = makeApiKey(null, now, adminKey)
  try {
    await store.createApiKey(key.row)
  } catch (err) {
    if (await store.findApiKeyByHash(hashKey(adminKey)) !== null) return
    throw err
  }
  const previous = await store.getSetting(OPERATOR_ADMIN_KEY)
  if (previous !== null) await store.revokeApiKey(previous, now)
  await store.setSetting(OPERATOR_ADMIN_KEY, key.row.id)
}

/**
 * The keys to print in the first-start banner, or null when they were printed before (or the
 * store already had workspaces made some other way).
 */
export async function prepareFirstStart (store: Store, options: { adminKey: string | null }, now: Date = new Date()): Promise<FirstStartKeys | null> {
  if (options.adminKey !== null) await ensureOperatorAdminKey(store, options.adminKey, now)
  if (await store.getSetting(KEYS_SHOWN) !== null) return null
  const claim = await claimFirstStart(store, now)
  if (claim === null) return null
  try {
    return await makeFirstStartKeys(store, options, now)
  } catch (err) {
    // Handed back at once, so that the next start (a supervisor's restart, say) makes the keys.
    await store.replaceSetting(FIRST_START_CLAIM, claim, 'released').catch(() => undefined)
    throw err
  }
}

async function makeFirstStartKeys (store: Store, options: { adminKey: string | null }, now: Date): Promise<FirstStartKeys | null> {
  const defaultId = await store.getSetting(DEFAULT_WORKSPACE)
  let workspace = defaultId === null ? null : await store.getWorkspace(defaultId)
  if (workspace === null && (await store.listWorkspaces()).length > 0) {
    // Workspaces exist that this bootstrap did not make (an imported or shared store).
    await store.setSetting(KEYS_SHOWN, now.toISOString())
    return null
  }

  const unshown = JSON.parse(await store.getSetting(UNSHOWN_KEYS) ?? '[]') as string[]
  for (const id of unshown) await store.revokeApiKey(id, now)

  if (workspace === null) {
    workspace = { id: newId('ws'), name: 'Default', createdAt: now }
    await store.createWorkspace(workspace)
    await store.setSetting(DEFAULT_WORKSPACE, workspace.id)
  }
  const workspaceKey = makeApiKey(workspace.id, now)
  await store.createApiKey(workspaceKey.row)
  const adminKey = options.adminKey === null ? makeApiKey(null, now) : null
  if (adminKey !== null) await store.createApiKey(adminKey.row)
  await store.setSetting(UNSHOWN_KEYS, JSON.stringify([workspaceKey.row.id, ...(adminKey === null ? [] : [adminKey.row.id])]))
  return { adminKey: adminKey?.token ?? null, workspace, workspaceKey: workspaceKey.token }
}

/**
 * This process's claim when it is the one to make the first-start keys (see FIRST_START_CLAIM),
 * else null.
 */
async function claimFirstStart (store: Store, now: Date): Promise<string | null> {
  const current = await store.getSetting(FIRST_START_CLAIM)
  const claimedAt = current === null ? NaN : Date.parse(current.split(' ')[1] ?? '')
  // A claim whose time cannot be read (one handed back) counts as stale.
  if (current !== null && now.getTime() - claimedAt < CLAIM_STALE_MS) return null
  const claim = `${randomUUID()} ${now.toISOString()}`
  return await store.replaceSetting(FIRST_START_CLAIM, current, claim) ? claim : null
}

/**
 * After prepareFirstStart gave this start no keys: true while another start, at the same time,
 * is making them (they have not been shown yet), so that this one can say where to look.
 */
export async function firstStartElsewhere (store: Store): Promise<boolean> {
  return await store.getSetting(KEYS_SHOWN) === null
}

/** Called once the banner is out: later starts print no secrets. */
export async function markKeysShown (store: Store, now: Date = new Date()): Promise<void> {
  await store.setSetting(UNSHOWN_KEYS, '[]')
  await store.setSetting(KEYS_SHOWN, now.toISOString())
}

export function banner (url: string, keys: FirstStartKeys | null, keysElsewhere = false): string {
  const lines = [`kejue-webhooks is listening on ${url}  (dashboard: ${url}/  API docs: ${url}/docs)`]
  if (keys === null && keysElsewhere) {
    lines.push('  First start: another process that started at the same time prints the admin and workspace keys; look in its output.')
  }
  if (keys !== null) {
    lines.push(
      '',
      '  First start: copy these keys now. They are stored only as hashes and will not be shown again.',
      '',
      ...(keys.adminKey === null ? ['  Admin key:          (KEJUE_ADMIN_KEY)'] : [`  Admin key:          ${keys.adminKey}`]),
      `  Default workspace:  ${keys.workspace.id}`,
      `  Workspace API key:  ${keys.workspaceKey}`,
      '',
      '  Try it:',
      `    curl -H 'X-API-Key: ${keys.workspaceKey}' ${url}/api/v1/webhooks`,
      '',
    )
  }
  return `${lines.join('\n')}\n`
}
