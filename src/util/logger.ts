/**
 * The service's logger: pino, JSON lines on stderr (stdout is kept for the start-up banner).
 * Keys, Authorization headers and webhook secrets are redacted wherever they appear in a
 * logged object; request and response bodies are never logged.
 */
import { pino } from 'pino'
import type { DestinationStream, Logger, LevelWithSilent } from 'pino'

export type { Logger }

export const REDACT_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-api-key"]',
  'headers.authorization',
  'secret',
  '*.secret',
  'api_key',
  '*.api_key',
  'apiKey',
  '*.apiKey',
  'adminKey',
  '*.adminKey',
]

export interface LoggerOptions {
  level?: LevelWithSilent
  /** Defaults to stderr (fd 2). Tests pass a stream to read what was logged. */
  destination?: DestinationStream
}

export function createLogger (options: LoggerOptions = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: 'kejue-webhooks' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }, options.destination ?? pino.destination({ fd: 2, sync: false }))
}
