/**
 * A `cli_sessions` row as both drivers read it (times as Unix ms numbers; PostgreSQL's int8 is
 * parsed to number, see postgres/pool.ts) and its mapping to the Store's CliSession.
 */
import type { CliSession } from './store.js'

export interface CliSessionRow {
  id: string
  workspace_id: string
  webhook_id: string
  hub_id: string
  created_at: number
  heartbeat_at: number
}

export function toCliSession (row: CliSessionRow): CliSession {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    webhookId: row.webhook_id,
    hubId: row.hub_id,
    createdAt: new Date(row.created_at),
    heartbeatAt: new Date(row.heartbeat_at),
  }
}
