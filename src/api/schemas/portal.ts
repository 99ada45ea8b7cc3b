import { Type } from '@sinclair/typebox'
import { DEFAULTS } from '../../config/defaults.js'
import { IsoDate } from './common.js'
import { OPTIONAL_BODY } from '../validation.js'

const P = DEFAULTS.portal

export const CreatePortalSessionBody = Type.Object({
  persona_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Scope the link to this persona\'s persona-scoped webhooks' })),
  ttl_s: Type.Optional(Type.Integer({ minimum: P.ttlSMin, maximum: P.ttlSMax, default: P.ttlS, description: 'Seconds the link works' })),
  read_only: Type.Optional(Type.Boolean({ default: false, description: 'Reads only: no webhook changes, no retries' })),
}, { additionalProperties: false, [OPTIONAL_BODY]: true })

export const PortalSessionObject = Type.Object({
  id: Type.String({ description: 'For DELETE /portal-sessions/{id}' }),
  url: Type.String({ description: 'The dashboard, signed in: the token travels in the fragment (#token=…), never to a server log' }),
  token: Type.String({ description: 'kp_…: works as Authorization: Bearer or X-API-Key until expires_at; shown only here' }),
  expires_at: IsoDate,
})
