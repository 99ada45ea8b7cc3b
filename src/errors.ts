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
  | 'HEADERS_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'DESTINATION_NOT_ALLOWED'
  | 'CONFIG_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL'

/**
 * The one map from error code to HTTP status. The core and the stores raise codes; only this
 * table turns them into statuses (the API's error handler reads it through `statusCode`).
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  VALIDATION: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  DESTINATION_NOT_ALLOWED: 422,
  CONFIG_INVALID: 500,
  // Retryable: the client should send the same request again shortly (Retry-After: 1).
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
}

export interface FieldError {
  /** JSON path of the field, e.g. `data.retry.attempt_number` or `url`. */
  path: string
  message: string
}

export class ServiceError extends Error {
  readonly code: ErrorCode
  /** From HTTP_STATUS; a plain property because fastify writes to it on validation errors. */
  statusCode: number
  readonly details: Record<string, unknown>

  constructor (
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>, cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = HTTP_STATUS[code]
    this.details = opts.details ?? {}
  }
}

/** Bad input: the message says what to fix and `details.fields` names each field. */
export function validationError (message: string, fields: FieldError[]): ServiceError {
  return new ServiceError('VALIDATION', message, { details: { fields } })
}

export function notFound (what: string): ServiceError {
  return new ServiceError('NOT_FOUND', `${what} not found`)
}

/**
 * The store cannot be reached or written (database connection lost or refused, disk full,
 * read-only file): 503, so clients retry later. The cause stays in the log, never in the body.
 */
export function storeUnavailable (cause: unknown): ServiceError {
  return new ServiceError('STORE_UNAVAILABLE', 'the store cannot be reached or written; try again shortly', { cause })
}

/** A boot-time setting that cannot be used; the message names the setting and its source. */
export class ConfigError extends ServiceError {
  constructor (message: string) {
    super('CONFIG_INVALID', message)
  }
}

/** Turns anything thrown into an Error, so loops can log it and go on. */
export function coerceError (value: unknown): Error {
  if (value instanceof Error) return value
  return new Error(typeof value === 'string' ? value : JSON.stringify(value))
}
