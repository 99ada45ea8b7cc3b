import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventKeys } from './event-keys.js'

test('the keys of an event: data.job_id else data.call.id, data.contact_id else data.contact.id, strings only', () => {
  assert.deepEqual(eventKeys({ job_id: 'job_1', contact_id: 'ct_1', call: { id: 'job_2' }, contact: { id: 'ct_2' } }), { jobId: 'job_1', contactId: 'ct_1' })
  assert.deepEqual(eventKeys({ call: { id: 'job_2' }, contact: { id: 'ct_2', name: 'Jane' } }), { jobId: 'job_2', contactId: 'ct_2' })
  assert.deepEqual(eventKeys({ campaign_id: 'camp_1' }), { jobId: null, contactId: null })
  assert.deepEqual(eventKeys({ job_id: 42, contact: { id: 7 } }), { jobId: null, contactId: null })
  assert.deepEqual(eventKeys({ job_id: 42, call: { id: 'job_3' } }), { jobId: 'job_3', contactId: null }, 'a non-string flat id falls back to the nested one')
  assert.deepEqual(eventKeys({ job_id: 'a\u0000b', contact_id: 'ct_1' }), { jobId: null, contactId: 'ct_1' }, 'U+0000 is not searchable')
})
