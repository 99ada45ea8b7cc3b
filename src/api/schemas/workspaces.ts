import { Type } from '@sinclair/typebox'
import { IdString, IsoDate, Nullable } from './common.js'

export const CreateWorkspaceBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false })

export const WorkspaceObject = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: IsoDate,
})

export const WorkspaceWithKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  api_key: Type.String({ description: 'The workspace\'s first API key; shown only here' }),
  api_key_id: Type.String(),
  created_at: IsoDate,
})

export const ApiKeyObject = Type.Object({
  id: Type.String(),
  workspace_id: Nullable(Type.String()),
  prefix: Type.String({ description: 'The first characters of the key' }),
  created_at: IsoDate,
  revoked_at: Nullable(IsoDate),
})

export const ApiKeyWithToken = Type.Object({
  id: Type.String(),
  workspace_id: Nullable(Type.String()),
  prefix: Type.String(),
  api_key: Type.String({ description: 'Shown only here' }),
  created_at: IsoDate,
  revoked_at: Nullable(IsoDate),
})

export const WorkspaceParams = Type.Object({ id: IdString })
export const KeyParams = Type.Object({ id: IdString, key_id: IdString })
