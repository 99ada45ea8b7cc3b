/**
 * Payload filters of a subscription (docs/api.md, "Filters"): `{"<dotted path>": condition}`,
 * every entry must hold. A path walks object keys from the envelope (`data.call.score`); a
 * condition is a JSON literal (equals), `{"in": [...]}`, `{"gt"|"gte"|"lt"|"lte": number}` (no
 * match when the value is not a number) or `{"exists": boolean}`. Pure: checked by the API before
 * a filter is stored, applied when an event is accepted.
 */
import type { FieldError } from '../errors.js'

export const FILTER_OPERATORS = ['in', 'gt', 'gte', 'lt', 'lte', 'exists'] as const
type Operator = (typeof FILTER_OPERATORS)[number]

/** Bounds that keep a filter cheap to check at every event. */
export const FILTER_LIMITS = { maxConditions: 20, maxPathLength: 200, maxInValues: 100 } as const

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isOperator (key: string): key is Operator {
  return (FILTER_OPERATORS as readonly string[]).includes(key)
}

/** Problems with a filter, each naming its path (`filter.data.status`); empty when it is valid. */
export function filterProblems (filter: unknown, prefix = 'filter'): FieldError[] {
  if (!isPlainObject(filter)) return [{ path: prefix, message: 'must be an object of "<dotted path>": condition' }]
  const entries = Object.entries(filter)
  if (entries.length > FILTER_LIMITS.maxConditions) return [{ path: prefix, message: `has more than ${FILTER_LIMITS.maxConditions} conditions` }]
  const problems: FieldError[] = []
  for (const [path, condition] of entries) {
    const at = `${prefix}.${path}`
    if (path.length === 0 || path.length > FILTER_LIMITS.maxPathLength || path.split('.').some((segment) => segment === '')) {
      problems.push({ path: at, message: `must be a dotted path of object keys (1–${FILTER_LIMITS.maxPathLength} characters, no empty segment)` })
      continue
    }
    const problem = conditionProblem(condition)
    if (problem !== null) problems.push({ path: at, message: problem })
  }
  return problems
}

function conditionProblem (condition: unknown): string | null {
  if (!isPlainObject(condition)) return isJsonValue(condition) ? null : 'must be a JSON value or an operator object'
  const keys = Object.keys(condition)
  const [key] = keys
  if (keys.length !== 1 || key === undefined || !isOperator(key)) {
    return `must be a JSON literal or an object with exactly one of ${FILTER_OPERATORS.join(', ')}`
  }
  const operand = condition[key]
  switch (key) {
    case 'in':
      if (!Array.isArray(operand) || operand.length === 0 || operand.length > FILTER_LIMITS.maxInValues) return `"in" takes an array of 1–${FILTER_LIMITS.maxInValues} values`
      return operand.every(isJsonValue) ? null : '"in" takes JSON values'
    case 'exists':
      return typeof operand === 'boolean' ? null : '"exists" takes true or false'
    default:
      return typeof operand === 'number' && Number.isFinite(operand) ? null : `"${key}" takes a number`
  }
}

function isJsonValue (value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (Array.isArray(value)) return value.every(isJsonValue)
  if (isPlainObject(value)) return Object.values(value).every(isJsonValue)
  return false
}

/** The value at a dotted path of object keys, or undefined when some segment is missing. */
export function valueAt (root: unknown, path: string): unknown {
  let value: unknown = root
  for (const segment of path.split('.')) {
    if (!isPlainObject(value) || !Object.hasOwn(value, segment)) return undefined
    value = value[segment]
  }
  return value
}

function jsonEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]))
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
  }
  return false
}

function holds (value: unknown, condition: unknown): boolean {
  if (!isPlainObject(condition)) return value !== undefined && jsonEqual(value, condition)
  const [key, operand] = Object.entries(condition)[0] ?? []
  switch (key) {
    case 'in': return value !== undefined && Array.isArray(operand) && operand.some((item) => jsonEqual(value, item))
    case 'exists': return (value !== undefined) === operand
    case 'gt': return typeof value === 'number' && typeof operand === 'number' && value > operand
    case 'gte': return typeof value === 'number' && typeof operand === 'number' && value >= operand
    case 'lt': return typeof value === 'number' && typeof operand === 'number' && value < operand
    case 'lte': return typeof value === 'number' && typeof operand === 'number' && value <= operand
    default: return false
  }
}

/** Whether an envelope passes a (valid) filter; a null filter passes everything. */
export function matchesFilter (filter: Readonly<Record<string, unknown>> | null, envelope: unknown): boolean {
  if (filter === null) return true
  for (const [path, condition] of Object.entries(filter)) {
    if (!holds(valueAt(envelope, path), condition)) return false
  }
  return true
}
