/** Erasure schemas (docs/api.md, docs/privacy.md). */
import { Type } from '@sinclair/typebox'
import { IsoDate, Nullable } from './common.js'

const ContactOrJobId = Type.String({ minLength: 1, maxLength: 200 })

export const CreateErasureBody = Type.Object({
  contact_id: Type.Optional(ContactOrJobId),
  job_id: Type.Optional(ContactOrJobId),
}, { additionalProperties: false, description: 'At least one; with both, events matching either are erased' })

export const ErasureAccepted = Type.Object({
  id: Type.String(),
  events_matched: Type.Integer(),
})

export const ErasureObject = Type.Object({
  id: Type.String(),
  contact_id: Nullable(Type.String()),
  job_id: Nullable(Type.String()),
  events_matched: Type.Integer(),
  created_at: IsoDate,
}, { description: 'The record of an erasure: ids and a count, no personal data' })
