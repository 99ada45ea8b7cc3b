import { Buffer } from 'node:buffer'
import type { KejueEvent } from './events.js'
import { WebhookVerificationError } from './verification-error.js'

/**
 * What `verify` returns. One alias so that narrowing it to the catalog's discriminated union is a
 * one-line change.
 */
export type VerifiedEvent = KejueEvent

/** A Node `Buffer` is a `Uint8Array`, so it fits; typed without Node's types so the .d.ts stand alone. */
export type RawBody = string | Uint8Array | ArrayBuffer

/** The body's bytes, exactly what was signed; a string is taken as UTF-8 like the sender did. */
export function rawBodyBytes (rawBody: RawBody): Uint8Array {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8')
  if (rawBody instanceof ArrayBuffer) return Buffer.from(rawBody)
  return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength)
}

export function isRawBody (value: unknown): value is RawBody {
  return typeof value === 'string' || value instanceof Uint8Array || value instanceof ArrayBuffer
}

// fatal: a body that is not UTF-8 is not what Kejue sends; ignoreBOM keeps a BOM so JSON.parse refuses it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Parses the verified bytes (never a separately decoded string, so what is parsed is what was
 * signed) and checks the envelope of docs/wire-format.md.
 */
export function parseEvent (bytes: Uint8Array): VerifiedEvent {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    throw new WebhookVerificationError('INVALID_BODY')
  }
  if (!isEnvelope(value)) throw new WebhookVerificationError('INVALID_BODY')
  return value
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Only the envelope is checked, not `event` against the catalog: a receiver built today should
// still accept an event type added later.
function isEnvelope (value: unknown): value is VerifiedEvent {
  return isObject(value)
    && typeof value.event === 'string' && value.event.length > 0
    && typeof value.event_id === 'string' && value.event_id.length > 0
    && typeof value.workspace_id === 'string'
    && typeof value.timestamp === 'string'
    && isObject(value.data)
    && isObject(value.metadata)
}
