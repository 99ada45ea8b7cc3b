import { ValueErrorType } from '@sinclair/typebox/errors'
import type { ValueError } from '@sinclair/typebox/errors'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { TypeCheck } from '@sinclair/typebox/compiler'
import type { TSchema } from '@sinclair/typebox'
import type { FieldError } from '../errors.js'
import { EVENT_CATALOG } from './catalog.js'
import type { EventDataMap } from './catalog.js'
import { EVENT_TYPES, isEventType } from './event-types.js'
import type { EventType } from './event-types.js'
import { HTTP_URL_PATTERN, ISO_TIMESTAMP_PATTERN } from './schemas/common.js'

export type ValidationResult<T> = { ok: true, data: T } | { ok: false, errors: FieldError[] }

/** Each type's validator is compiled on first use and kept (TypeCompiler builds a function). */
const compiled = new Map<EventType, TypeCheck<TSchema>>()

function checkerFor (type: EventType): TypeCheck<TSchema> {
  let check = compiled.get(type)
  if (check === undefined) {
    check = TypeCompiler.Compile(EVENT_CATALOG[type].schema)
    compiled.set(type, check)
  }
  return check
}

/**
 * Checks an event's `data` against the catalog. Every error names the field as a dotted path
 * from the envelope (`data.retry.attempt_number`, `data.in_call_tools[0]`) and says what is wrong.
 * Unknown fields are allowed.
 * @example
 * const result = validateEventData('call.ended', body.data)
 * if (!result.ok) throw validationError('invalid event data', result.errors)
 */
export function validateEventData<K extends EventType> (type: K, data: unknown): ValidationResult<EventDataMap[K]> {
  // Callers holding an unchecked string (a request body) get a field error, not a crash.
  const typeResult = validateEventType(type)
  if (!typeResult.ok) return typeResult
  const check = checkerFor(type)
  if (check.Check(data)) return { ok: true, data: data as EventDataMap[K] }
  return { ok: false, errors: toFieldErrors(check.Errors(data), data, 'data') }
}

/** Checks an envelope's `event` field: one of the eight types (`*` is a filter, not a type). */
export function validateEventType (value: unknown): ValidationResult<EventType> {
  if (isEventType(value)) return { ok: true, data: value }
  const message = value === undefined
    ? 'event is required'
    : `event must be one of ${EVENT_TYPES.join(', ')} (got ${describeValue(value)})`
  return { ok: false, errors: [{ path: 'event', message }] }
}

/**
 * TypeBox reports a missing property twice (as "required" and as the wrong type) and may report
 * several errors on one path; a person wants one clear line per field, so keep the best per path.
 */
function toFieldErrors (errors: Iterable<ValueError>, root: unknown, rootPath: string): FieldError[] {
  const byPath = new Map<string, { error: ValueError, rank: number }>()
  for (const error of expandUnions(errors)) {
    const rank = error.type === ValueErrorType.ObjectRequiredProperty ? 0 : 1
    const seen = byPath.get(error.path)
    if (seen === undefined || rank < seen.rank) byPath.set(error.path, { error, rank })
  }
  return [...byPath.values()].map(({ error }) => {
    const path = toDottedPath(error.path, root, rootPath)
    return { path, message: `${path} ${describeProblem(error)}` }
  })
}

/**
 * A union error ("Expected union value") hides the useful detail. When the value has the JSON
 * type of exactly one non-literal variant (a string sent for `string | null` but empty, an object
 * sent for `object | null` with a bad field), report that variant's errors instead.
 */
function * expandUnions (errors: Iterable<ValueError>): Iterable<ValueError> {
  for (const error of errors) {
    if (error.type !== ValueErrorType.Union) {
      yield error
      continue
    }
    const variants = (error.schema.anyOf ?? []) as TSchema[]
    const kind = jsonKind(error.value)
    const matching = variants
      .map((variant, index) => ({ variant, index }))
      .filter(({ variant }) => variant.const === undefined && acceptsKind(variant, kind))
    const only = matching.length === 1 ? matching[0] : undefined
    const detail = only === undefined ? undefined : error.errors[only.index]
    if (detail === undefined) yield error
    else yield * expandUnions(detail)
  }
}

function jsonKind (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function acceptsKind (schema: TSchema, kind: string): boolean {
  if (schema.type === kind) return true
  return schema.type === 'number' && kind === 'integer'
}

/** `/retry/attempt_number` → `data.retry.attempt_number`; array indexes as `[0]`. */
function toDottedPath (pointer: string, root: unknown, rootPath: string): string {
  if (pointer === '') return rootPath
  let path = rootPath
  let current: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(current) && /^\d+$/.test(key)) path += `[${key}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) path += `.${key}`
    else path += `[${JSON.stringify(key)}]`
    current = isRecord(current) || Array.isArray(current) ? (current as Record<string, unknown>)[key] : undefined
  }
  return path
}

function describeProblem (error: ValueError): string {
  const { schema } = error
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required'
    case ValueErrorType.Union:
      return `must be ${describeExpected(schema)} (got ${describeValue(error.value)})`
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(schema.const)} (got ${describeValue(error.value)})`
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1 ? 'must not be empty' : `must be at least ${String(schema.minLength)} characters long`
    case ValueErrorType.StringMaxLength:
      return `must be at most ${String(schema.maxLength)} characters long`
    case ValueErrorType.StringPattern:
      if (schema.pattern === ISO_TIMESTAMP_PATTERN) return 'must be an ISO-8601 date-time such as 2025-01-15T10:30:00Z'
      if (schema.pattern === HTTP_URL_PATTERN) return 'must be an http:// or https:// URL'
      return `must match the pattern ${String(schema.pattern)}`
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be at least ${String(schema.minimum)} (got ${describeValue(error.value)})`
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be at most ${String(schema.maximum)} (got ${describeValue(error.value)})`
    default:
      // Wrong JSON type: string, number, integer, boolean, object, array, null.
      return `must be ${describeExpected(schema)} (got ${describeValue(error.value)})`
  }
}

/** What a schema accepts, in words: "a string", "one of completed, no_answer, …", "a string or null". */
function describeExpected (schema: TSchema): string {
  const variants = flattenUnion(schema)
  const literals = variants.filter((s) => s.const !== undefined).map((s) => String(s.const))
  const others = variants.filter((s) => s.const === undefined)
  const parts: string[] = []
  if (literals.length > 0) parts.push(literals.length === 1 ? JSON.stringify(literals[0]) : `one of ${literals.join(', ')}`)
  for (const other of others) parts.push(describeType(other))
  return parts.join(' or ')
}

function flattenUnion (schema: TSchema): TSchema[] {
  const anyOf = schema.anyOf as TSchema[] | undefined
  return Array.isArray(anyOf) ? anyOf.flatMap((variant) => flattenUnion(variant)) : [schema]
}

function describeType (schema: TSchema): string {
  switch (schema.type) {
    case 'string': return 'a string'
    case 'integer': return 'an integer'
    case 'number': return 'a number'
    case 'boolean': return 'true or false'
    case 'null': return 'null'
    case 'array': return 'an array'
    case 'object': return 'an object'
    default: return 'a valid value'
  }
}

/** The received value's kind; short strings and numbers are quoted so the sender sees the typo. */
function describeValue (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : 'a longer string'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
