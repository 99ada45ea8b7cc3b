/**
 * Request validation with TypeBox's compiler (the route schemas are TypeBox, and the same
 * schemas feed the OpenAPI document). Every failure becomes a 422 VALIDATION whose
 * `details.fields` names each field in dotted form (`delivery_settings.timeout_ms`,
 * `config.webhooks[0].url`) with a message saying what it must be.
 *
 * Query strings and path params are coerced (`?limit=20` is a number); bodies are not: a JSON
 * body must carry the right types, so `"timeout_ms": "5000"` is refused rather than guessed at.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ValueErrorType } from '@sinclair/typebox/errors'
import type { ValueError } from '@sinclair/typebox/errors'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import type { FastifySchemaCompiler } from 'fastify'
import { ServiceError, validationError } from '../errors.js'
import type { FieldError } from '../errors.js'

/** Marks a body schema whose body may be left out entirely (e.g. POST /webhooks/{id}/test). */
export const OPTIONAL_BODY = 'x-optional-body'
/** A schema's own wording for a failed `pattern`, e.g. "must look like evt_…". */
export const PATTERN_MESSAGE = 'x-pattern-message'

/** `/config/webhooks/0/url` → `config.webhooks[0].url`. */
export function fieldPath (pointer: string, prefix = ''): string {
  let out = prefix.replace(/\.$/, '')
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (/^\d+$/.test(part)) out += `[${part}]`
    else out += out === '' ? part : `.${part}`
  }
  return out === '' ? '(body)' : out
}

type SchemaLike = Record<string, unknown>

function range (schema: SchemaLike, unit: string): string {
  const min = schema.minimum ?? schema.minLength ?? schema.minItems
  const max = schema.maximum ?? schema.maxLength ?? schema.maxItems
  if (typeof min === 'number' && typeof max === 'number') return unit === '' ? ` from ${min} to ${max}` : ` of ${min}–${max} ${unit}`
  if (typeof min === 'number') return unit === '' ? ` of at least ${min}` : ` of at least ${min} ${unit}`
  if (typeof max === 'number') return unit === '' ? ` of at most ${max}` : ` of at most ${max} ${unit}`
  return ''
}

/** What a value must be, in words, from its schema. */
export function describeSchema (schema: SchemaLike): string {
  if ('const' in schema) return JSON.stringify(schema.const)
  const anyOf = schema.anyOf
  if (Array.isArray(anyOf)) {
    const variants = anyOf as SchemaLike[]
    if (variants.every((v) => 'const' in v)) return `one of ${variants.map((v) => JSON.stringify(v.const)).join(', ')}`
    return variants.map((v) => describeSchema(v)).join(' or ')
  }
  switch (schema.type) {
    case 'integer': return `an integer${range(schema, '')}`
    case 'number': return `a number${range(schema, '')}`
    case 'boolean': return 'true or false'
    case 'null': return 'null'
    case 'array': return `an array${range(schema, 'items')}`
    case 'object': return 'an object'
    case 'string': {
      if (typeof schema[PATTERN_MESSAGE] === 'string') return schema[PATTERN_MESSAGE]
      return `a string${range(schema, 'characters')}`
    }
    default: return 'a valid value'
  }
}

function messageFor (error: ValueError): string {
  const schema = error.schema as unknown as SchemaLike
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty: return 'is required'
    case ValueErrorType.ObjectAdditionalProperties: return 'is not a known field'
    default: return `must be ${describeSchema(schema)}`
  }
}

/** TypeBox errors → one field error per path, in document order. */
export function toFieldErrors (errors: Iterable<ValueError>, prefix = ''): FieldError[] {
  const seen = new Set<string>()
  const out: FieldError[] = []
  for (const error of errors) {
    const path = fieldPath(error.path, prefix)
    // A failed object or union yields its own error before its children's; the first one is
    // the most useful for each path.
    if (seen.has(path)) continue
    seen.add(path)
    out.push({ path, message: messageFor(error) })
  }
  return out
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const PART_NAMES: Record<string, string> = { querystring: 'query parameter', params: 'path parameter', headers: 'header', body: 'field' }

export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema)
  const coerce = httpPart !== 'body'
  const optionalBody = (schema as SchemaLike)[OPTIONAL_BODY] === true
  return (input: unknown) => {
    if (httpPart === 'body') {
      // Fastify hands a missing body over as null.
      if ((input === undefined || input === null) && optionalBody) return { value: undefined }
      if (!isPlainObject(input)) {
        return { error: new ServiceError('BAD_REQUEST', 'the request body must be a JSON object', { statusCode: 400 }) }
      }
    }
    const value = coerce ? Value.Convert(schema, input) : input
    if (check.Check(value)) return { value }
    const fields = toFieldErrors(check.Errors(value))
    const part = PART_NAMES[httpPart ?? 'body'] ?? 'field'
    const summary = fields.map((f) => `${f.path} ${f.message}`).join('; ')
    return { error: validationError(`invalid ${part}${fields.length === 1 ? '' : 's'}: ${summary}`, fields) }
  }
}
