/**
 * The error catalogue. Callers match on `err.code`, never on `instanceof`. Every code has a row
 * in docs/errors.md.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'DESTINATION_NOT_ALLOWED'
  | 'CONFIG_INVALID'
  | 'LEASE_LOST'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL'

export interface FieldError {
  /** JSON path of the field, e.g. `data.retry.attempt_number` or `url`. */
  path: string
  message: string
}

export class ServiceError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly details: Record<string, unknown>

  constructor (
    code: ErrorCode,
    message: string,
    opts: { statusCode?: number, details?: Record<string, unknown>, cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = opts.statusCode ?? 500
    this.details = opts.details ?? {}
  }
}

/** Bad input: the message says what to fix and `details.fields` names each field. */
export function validationError (message: string, fields: FieldError[], statusCode = 422): ServiceError {
  return new ServiceError('VALIDATION', message, { statusCode, details: { fields } })
}

export function notFound (what: string): ServiceError {
  return new ServiceError('NOT_FOUND', `${what} not found`, { statusCode: 404 })
}

/**
 * The store cannot be reached or written (database connection lost or refused, disk full,
 * read-only file): 503, so clients retry later. The cause stays in the log, never in the body.
 */
export function storeUnavailable (cause: unknown): ServiceError {
  return new ServiceError('STORE_UNAVAILABLE', 'the store cannot be reached or written; try again shortly', { statusCode: 503, cause })
}

/** A boot-time setting that cannot be used; the message names the setting and its source. */
export class ConfigError extends ServiceError {
  constructor (message: string) {
    super('CONFIG_INVALID', message, { statusCode: 500 })
  }
}

/** Turns anything thrown into an Error, so loops can log it and go on. */
export function coerceError (value: unknown): Error {
  if (value instanceof Error) return value
  return new Error(typeof value === 'string' ? value : JSON.stringify(value))
}
