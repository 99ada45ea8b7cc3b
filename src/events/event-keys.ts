/**
 * The ids an event is found by (`GET /deliveries?job_id=` and `?contact_id=`, docs/storage.md
 * "Delivery search"): `data.job_id`, else `data.call.id`; `data.contact_id`, else
 * `data.contact.id`. Computed once here when the event is accepted and stored beside it, so the
 * store indexes two short columns instead of parsing every envelope it writes.
 */
export interface EventKeys {
  jobId: string | null
  contactId: string | null
}

function idAt (data: Record<string, unknown>, flat: string, nested: string): string | null {
  const value = data[flat]
  if (typeof value === 'string') return value
  const holder = data[nested]
  if (typeof holder === 'object' && holder !== null && 'id' in holder && typeof holder.id === 'string') return holder.id
  return null
}

export function eventKeys (data: Record<string, unknown>): EventKeys {
  return { jobId: idAt(data, 'job_id', 'call'), contactId: idAt(data, 'contact_id', 'contact') }
}
