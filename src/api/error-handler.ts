/**
 * Every error leaves as `{error, code, details}` (docs/errors.md). Below 500 the message says what
 * to fix. A store that cannot be reached or written answers 503 STORE_UNAVAILABLE (retry later);
 * any other 5xx sends `{error: 'Internal Server Error', code: 'INTERNAL', details: {}}` and logs
 * the real error with the request id.
 */
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HTTP_STATUS, ServiceError } from '../errors.js'
import type { ErrorCode } from '../errors.js'

export interface ErrorBody {
  error: string
  code: ErrorCode
  details: Record<string, unknown>
}

/** Fastify's own errors (body parsing, limits, the router's) mapped to ours; statuses from HTTP_STATUS. */
const FASTIFY_CODES: Record<string, { code: ErrorCode, message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the body as JSON with Content-Type: application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: 'the Content-Length header does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'BAD_REQUEST', message: 'the body is empty; send a JSON object' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'BAD_REQUEST', message: 'the body is not valid JSON' },
  FST_ERR_BAD_URL: { code: 'BAD_REQUEST', message: 'the URL is not valid (a bad % escape?)' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'BAD_REQUEST', message: 'a path parameter is too long (ids are at most 100 characters)' },
}

export function errorBody (err: FastifyError | Error, bodyLimitBytes: number): { status: number, body: ErrorBody } {
  if (err instanceof ServiceError && (err.statusCode < 500 || err.code === 'STORE_UNAVAILABLE')) {
    return { status: err.statusCode, body: { error: err.message, code: err.code, details: err.details } }
  }
  const fastifyCode = (err as FastifyError).code
  const mapped = fastifyCode === undefined ? undefined : FASTIFY_CODES[fastifyCode]
  if (mapped !== undefined) {
    const message = mapped.code === 'PAYLOAD_TOO_LARGE'
      ? `the body is larger than the limit of ${bodyLimitBytes} bytes`
      : mapped.message ?? err.message
    return { status: HTTP_STATUS[mapped.code], body: { error: message, code: mapped.code, details: {} } }
  }
  if (err instanceof SyntaxError) {
    return { status: 400, body: { error: 'the body is not valid JSON', code: 'BAD_REQUEST', details: {} } }
  }
  const status = (err as FastifyError).statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: err.message, code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', details: {} } }
  }
  return { status: 500, body: { error: 'Internal Server Error', code: 'INTERNAL', details: {} } }
}

/**
 * Requests Node's HTTP parser refuses before fastify sees them (headers or request line over
 * 16 KiB, a body cut short of its Content-Length, malformed HTTP) still get `{error, code, details}`.
 */
export function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
  const code: ErrorCode = tooLarge ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST'
  const body = JSON.stringify({
    error: tooLarge ? 'the request line and headers are larger than 16 KiB (a long query string?)' : 'the request could not be read as HTTP (malformed, or cut short of its Content-Length)',
    code,
    details: {},
  })
  const status = HTTP_STATUS[code]
  socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

export function createErrorHandler (bodyLimitBytes: number) {
  return function errorHandler (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
    const { status, body } = errorBody(err, bodyLimitBytes)
    // An outage fails every request alike: the engine logs it once (docs/storage.md), not each request.
    if (body.code === 'STORE_UNAVAILABLE') {
      request.log.debug({ err, reqId: request.id }, body.error)
      void reply.header('retry-after', '1')
    } else if (status >= 500) request.log.error({ err, reqId: request.id }, 'request failed')
    else request.log.debug({ code: body.code, status }, body.error)
    void reply.status(status).send(body)
  }
}
