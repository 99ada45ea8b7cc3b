/**
 * The ids an event is found by (`GET /deliveries?job_id=` and `?contact_id=`, docs/storage.md
 * "Delivery search"): `data.job_id`, else `data.call.id`; `data.contact_id`, else
 * `data.contact.id`. Strings only. Computed once here when the event is accepted and stored beside
 * it, so the store indexes two short columns instead of parsing every envelope it writes.
 */
export interface EventKeys {
  jobId: string | null
  contactId: string | null
}

function idAt (data: Record<string, unknown>, flat: string, nested: string): string | null {
  const value = data[flat]
  const holder = data[nested]
  const id = typeof value === 'string'
    ? value
    : typeof holder === 'object' && holder !== null && 'id' in holder && typeof holder.id === 'string' ? holder.id : null
  // PostgreSQL text cannot hold U+0000: such an id is not searchable (on either store), and the
  // event is stored all the same.
  return id === null || id.includes('\u0000') ? null : id
}

export function eventKeys (data: Record<string, unknown>): EventKeys {
  return { jobId: idAt(data, 'job_id', 'call'), contactId: idAt(data, 'contact_id', 'contact') }
}
