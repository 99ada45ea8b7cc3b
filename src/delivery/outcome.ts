import type { SigningMethod } from '../signing/methods.js'

/**
 * What one attempt came to, as a value (never thrown). `http-client.ts` produces it,
 * `retry-policy.ts` decides on it, the engine records it.
 */
export type AttemptOutcome =
  | { kind: 'delivered', statusCode: number, durationMs: number, responseExcerpt: string }
  /** 4xx or 3xx: permanent (spec: "4xx responses are treated as permanent failures"). */
  | { kind: 'rejected', statusCode: number, durationMs: number, responseExcerpt: string }
  /** 5xx, timeout or a connection error: retried while attempts remain. `retryAfter`: a 503's Retry-After header as sent. */
  | { kind: 'failed', reason: 'server' | 'timeout' | 'network', statusCode: number | null, durationMs: number, error: string, responseExcerpt: string | null, retryAfter?: string }
  /** Refused before sending (SSRF guard, bad URL, webhook gone): permanent. */
  | { kind: 'blocked', reason: 'private-address' | 'invalid-url' | 'webhook-deleted', durationMs: number, error: string }

/** A retryable failure with no HTTP response: the connection, the sender, or the local app. */
export function networkFailure (error: string, durationMs: number): AttemptOutcome {
  return { kind: 'failed', reason: 'network', statusCode: null, durationMs, error, responseExcerpt: null }
}

/**
 * The error text an attempt is recorded with (attempts.error, a delivery's last_error): the
 * outcome's own phrase, or `HTTP <status>` for a 3xx/4xx; null for a success. The one place that
 * words it: the stores keep whatever text they are given.
 */
export function outcomeError (outcome: AttemptOutcome): string | null {
  if ('error' in outcome) return outcome.error
  return outcome.kind === 'rejected' ? `HTTP ${outcome.statusCode}` : null
}

export interface OutgoingRequest {
  /**
   * Whose attempt this is. The sender keeps one connection pool per webhook and origin, so a
   * webhook that hangs can only tie up its own sockets, never those of another webhook on the
   * same host (docs/delivery.md, "Isolation").
   */
  webhookId: string
  url: string
  headers: Record<string, string>
  body: string
  /** The whole attempt, connect to last response byte (the webhook's timeout_ms). */
  timeoutMs: number
  /**
   * The signature headers to add to `headers` as the request leaves (prepare.ts, signedHeaders):
   * the sender computes the HMAC, on its own thread when it has one, not the event loop.
   */
  signing?: RequestSigning
}

/** What signs one attempt (signing/signer.ts, signHeadersDuringRotation). */
export interface RequestSigning {
  method: SigningMethod
  secret: string | null
  /** The previous secret while a rotation overlaps (secret-rotation.ts), else null. */
  previousSecret: string | null
  /** When the attempt was started: each retry is signed afresh. */
  timestampMs: number
  /** The delivery id (standard_webhooks signs it). */
  messageId: string
}

/** Sends one attempt. Implemented over undici in http-client.ts. */
export interface HttpSender {
  send (request: OutgoingRequest): Promise<AttemptOutcome>
  /**
   * Ends every attempt still in flight at once (a network failure, `CLIENT_CLOSED_ERROR`) and
   * refuses new ones. Whoever closes the sender no longer wants those answers: the engine closes it
   * after its shutdown grace, having handed their deliveries back to be sent again.
   */
  close (): Promise<void>
}
