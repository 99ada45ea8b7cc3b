/**
 * Reads one header from whatever a framework hands over: Node's IncomingHttpHeaders (lowercase
 * keys, string | string[]), a Fetch `Headers`, or a plain object with keys in any case.
 */

/** Anything with `get(name)`, like Fetch's `Headers` or undici's. */
export interface HeadersGetter {
  get (name: string): string | null | undefined
}

export type HeaderRecord = Record<string, string | readonly string[] | undefined>

export type HeadersLike = HeaderRecord | HeadersGetter

export type HeaderReading =
  | { status: 'missing' }
  /** Duplicated, too long, or not a string: unusable, and we say no more about it. */
  | { status: 'invalid' }
  | { status: 'ok', value: string }

const MISSING: HeaderReading = { status: 'missing' }
const INVALID: HeaderReading = { status: 'invalid' }

export function isHeadersLike (value: unknown): value is HeadersLike {
  return typeof value === 'object' && value !== null
}

/** `name` is lowercase. Values longer than `maxLength` are refused before any other work. */
export function readHeader (headers: HeadersLike, name: string, maxLength: number): HeaderReading {
  const raw = hasGetter(headers) ? headers.get(name) : readFromRecord(headers, name)
  return classify(raw, maxLength)
}

function hasGetter (headers: HeadersLike): headers is HeadersGetter {
  return typeof (headers as { get?: unknown }).get === 'function'
}

/** A sentinel for two keys that differ only in case: a duplicated header. */
const DUPLICATE = Symbol('duplicate')

function readFromRecord (headers: HeaderRecord, name: string): unknown {
  let found: unknown
  let count = 0
  for (const key of Object.keys(headers)) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue
    const value = headers[key]
    if (value === undefined) continue
    found = value
    count++
  }
  return count > 1 ? DUPLICATE : found
}

function classify (raw: unknown, maxLength: number): HeaderReading {
  if (raw === undefined || raw === null) return MISSING
  let value: unknown = raw
  if (Array.isArray(raw)) {
    // Node gives an array when a header came more than once; one value is fine, several are not.
    if (raw.length === 0) return MISSING
    if (raw.length > 1) return INVALID
    value = raw[0]
  }
  if (typeof value !== 'string') return INVALID
  if (value.length === 0) return MISSING
  if (value.length > maxLength) return INVALID
  return { status: 'ok', value }
}
