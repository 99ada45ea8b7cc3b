/**
 * Custom headers of a subscription (docs/api.md, "Custom headers"): up to 20, sent on every
 * attempt. Names are HTTP tokens, values have no CR, LF or NUL, and the names the service sets
 * itself (or that would break the request) are refused, whatever their case.
 */
import type { FieldError } from '../errors.js'

export const CUSTOM_HEADER_LIMITS = { maxHeaders: 20, maxNameLength: 256, maxValueLength: 4_096 } as const

/** Refused names, lowercase; `x-kejue-` refuses the whole family. */
export const FORBIDDEN_HEADER_NAMES: readonly string[] = [
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'user-agent',
  'authorization', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]
export const FORBIDDEN_HEADER_PREFIX = 'x-kejue-'

// RFC 9110 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

export function isForbiddenHeaderName (name: string): boolean {
  const lower = name.toLowerCase()
  return FORBIDDEN_HEADER_NAMES.includes(lower) || lower.startsWith(FORBIDDEN_HEADER_PREFIX)
}

/** Problems with a headers object, each naming its path (`headers.X-Tenant`); empty when valid. */
export function customHeaderProblems (headers: unknown, prefix = 'headers'): FieldError[] {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    return [{ path: prefix, message: 'must be an object of header name: value' }]
  }
  const entries = Object.entries(headers)
  if (entries.length > CUSTOM_HEADER_LIMITS.maxHeaders) return [{ path: prefix, message: `has more than ${CUSTOM_HEADER_LIMITS.maxHeaders} headers` }]
  const problems: FieldError[] = []
  const seen = new Set<string>()
  for (const [name, value] of entries) {
    const at = `${prefix}.${name}`
    if (!TOKEN.test(name) || name.length > CUSTOM_HEADER_LIMITS.maxNameLength) {
      problems.push({ path: at, message: 'is not a valid header name (an HTTP token)' })
    } else if (name === '__proto__') {
      // A valid token, but a JavaScript object cannot carry it as a plain key through every layer.
      problems.push({ path: at, message: 'is reserved; choose another header name' })
    } else if (isForbiddenHeaderName(name)) {
      problems.push({ path: at, message: 'is set by the service and cannot be overridden' })
    } else if (seen.has(name.toLowerCase())) {
      problems.push({ path: at, message: 'is given twice (header names are case-insensitive)' })
    }
    seen.add(name.toLowerCase())
    if (typeof value !== 'string') problems.push({ path: at, message: 'must be a string' })
    else if (/[\r\n\0]/.test(value)) problems.push({ path: at, message: 'must not contain CR, LF or NUL' })
    else if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) problems.push({ path: at, message: 'must be printable text (tab, ASCII or Latin-1)' })
    else if (value.length > CUSTOM_HEADER_LIMITS.maxValueLength) problems.push({ path: at, message: `is longer than ${CUSTOM_HEADER_LIMITS.maxValueLength} characters` })
  }
  return problems
}
