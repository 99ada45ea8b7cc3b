/**
 * Erasure of an event's personal data (docs/privacy.md): what is kept of an erased event, and the
 * erasure itself (find the events, reduce them, end their open deliveries) above the store, so
 * both drivers follow one rule.
 */
import type { Envelope } from '../events/envelope.js'
import type { Erasure, Store } from '../store/store.js'
import { newId } from '../util/ids.js'

/** The data fields an erased event keeps: ids only (call.id and contact.id nested as they were). */
const KEPT_IDS = ['job_id', 'contact_id', 'campaign_id', 'persona_id'] as const
const KEPT_NESTED_IDS = ['call', 'contact'] as const

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `data` reduced to its ids plus `erased: true`. */
export function erasedData (data: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (isRecord(data)) {
    for (const key of KEPT_IDS) if (data[key] !== undefined) out[key] = data[key]
    for (const key of KEPT_NESTED_IDS) {
      const nested = data[key]
      if (isRecord(nested) && nested.id !== undefined) out[key] = { id: nested.id }
    }
  }
  out.erased = true
  return out
}

/** The stored body of an erased event: the same envelope with `data` reduced and `metadata` `{}`. */
export function eraseBody (body: string): string {
  const envelope = JSON.parse(body) as Envelope<string>
  return JSON.stringify({ ...envelope, data: erasedData(envelope.data), metadata: {} })
}

export interface ErasureRequest {
  workspaceId: string
  contactId: string | null
  jobId: string | null
}

/**
 * Erases every event of the workspace matching the contact or the job (data.contact_id,
 * data.contact.id, data.job_id, data.call.id) and records the erasure. Deliveries still pending
 * end failed with "erased"; their leases are cleared, so a worker holding one neither sends it
 * (engine: recheckHeldAfterMs) nor settles it.
 */
export async function eraseContactData (store: Store, request: ErasureRequest, now: Date = new Date()): Promise<Erasure> {
  const events = await store.findEventsToErase(request.workspaceId, { contactId: request.contactId, jobId: request.jobId })
  const erasure: Erasure = {
    id: newId('era'),
    workspaceId: request.workspaceId,
    contactId: request.contactId,
    jobId: request.jobId,
    eventsMatched: events.length,
    createdAt: now,
  }
  await store.eraseEvents({ erasure, events: events.map((e) => ({ id: e.id, body: eraseBody(e.body) })), now })
  return erasure
}
