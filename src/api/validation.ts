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
import { checkUrlShape } from '../delivery/ssrf.js'
import { ServiceError, validationError } from '../errors.js'
import type { FieldError } from '../errors.js'
import { parseTimestamp } from '../events/envelope.js'

/** Marks a body schema whose body may be left out entirely (e.g. POST /webhooks/{id}/test). */
export const OPTIONAL_BODY = 'x-optional-body'
/** A schema's own wording for a failed `pattern`, e.g. "must look like evt_…". */
export const PATTERN_MESSAGE = 'x-pattern-message'
/**
 * Marks a string schema that holds a webhook URL. Its syntax check (checkUrlShape) runs in the
 * route, after the schema; when the schema check fails for other fields, the URL's problem is
 * reported with them, so one answer lists every mistake.
 */
export const WEBHOOK_URL = 'x-webhook-url'

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
    case 'array': {
      // The items' own limits too: "1–20 items or null" alone hid that each must be ≥ 100.
      const items = schema.items
      const each = isPlainObject(items) && (items.type === 'integer' || items.type === 'number' || items.type === 'string') ? ` (each ${describeSchema(items)})` : ''
      return `an array${range(schema, 'items')}${each}`
    }
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

const DECIMAL_INTEGER = /^-?\d{1,15}$/
const DECIMAL_NUMBER = /^-?\d{1,15}(\.\d{1,15})?$/

/**
 * Converts query and path strings to the schema's types, but only from plain decimal digits:
 * `Number()` would also read `1e1`, `0x10`, ` 20` and `1.5` (as an integer, after rounding
 * elsewhere), silently changing what was asked for. Such strings stay strings and fail the check.
 */
function convertStrictly (schema: TSchema, input: unknown): unknown {
  // Value.Convert may convert in place: keep the raw strings first.
  const rawEntries = isPlainObject(input) ? Object.entries(input) : []
  const converted = Value.Convert(schema, input)
  const properties = (schema as SchemaLike).properties
  if (!isPlainObject(converted) || !isPlainObject(properties)) return converted
  for (const [name, raw] of rawEntries) {
    const property = properties[name]
    if (typeof raw !== 'string' || !isPlainObject(property)) continue
    const pattern = property.type === 'integer' ? DECIMAL_INTEGER : property.type === 'number' ? DECIMAL_NUMBER : null
    if (pattern !== null && !pattern.test(raw)) converted[name] = raw
  }
  return converted
}

/** URL syntax problems of the WEBHOOK_URL strings in `value`, found by walking `schema` along it. */
function urlProblems (schema: SchemaLike, value: unknown, path: string): FieldError[] {
  if (schema[WEBHOOK_URL] === true && typeof value === 'string') {
    const shape = checkUrlShape(value)
    return shape.ok ? [] : [{ path: path === '' ? 'url' : path, message: shape.reason.replace(/^url /, '') }]
  }
  const properties = schema.properties
  if (isPlainObject(properties) && isPlainObject(value)) {
    return Object.entries(properties).flatMap(([name, sub]) =>
      isPlainObject(sub) ? urlProblems(sub, value[name], path === '' ? name : `${path}.${name}`) : [])
  }
  if (isPlainObject(schema.items) && Array.isArray(value)) {
    const items = schema.items
    return value.flatMap((item, index) => urlProblems(items, item, `${path}[${index}]`))
  }
  return []
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
        return { error: new ServiceError('BAD_REQUEST', 'the request body must be a JSON object') }
      }
    }
    const value = coerce ? convertStrictly(schema, input) : input
    if (check.Check(value)) return { value }
    const fields = toFieldErrors(check.Errors(value))
    for (const problem of urlProblems(schema as SchemaLike, value, '')) {
      if (!fields.some((f) => f.path === problem.path)) fields.push(problem)
    }
    const part = PART_NAMES[httpPart ?? 'body'] ?? 'field'
    const summary = fields.map((f) => `${f.path} ${f.message}`).join('; ')
    return { error: validationError(`invalid ${part}${fields.length === 1 ? '' : 's'}: ${summary}`, fields) }
  }
}

/**
 * An ISO-8601 time from a request (a query parameter or a body field), refused with a 422 naming
 * `path` when it is not a real instant: `2026-11-31` or `T25:00` are never rolled over.
 */
export function parseRequestTime (text: string, path: string): Date {
  const at = parseTimestamp(text)
  if (at === null) throw validationError(`${path} is not a real date and time`, [{ path, message: 'is not a real date and time, e.g. 2025-01-15T10:30:00Z' }])
  return at
}
