import { signHeaders } from '../../src/signing/signer.js'
import type { SigningMethod } from '../../src/signing/methods.js'

export const TEST_SECRET = 'whsec_receiver_test_secret'

export function envelopeBody (data: Record<string, unknown> = { job_id: 'job_123' }): string {
  return JSON.stringify({
    event: 'call.ended',
    event_id: 'evt_test',
    workspace_id: 'ws_xyz',
    timestamp: '2025-01-15T10:30:00.000Z',
    data,
    metadata: {},
  })
}

export interface WebhookRequest {
  body: string
  /** Lowercase keys, as Node's `req.headers` holds them. */
  headers: Record<string, string>
  timestampMs: number
}

/** A valid delivery signed by our signer; tests break one field of it (standard-webhooks style). */
export function signedRequest (options: {
  method?: SigningMethod
  secret?: string
  body?: string
  timestampMs?: number
} = {}): WebhookRequest {
  const method = options.method ?? 'hmac_sha256'
  const body = options.body ?? envelopeBody()
  const timestampMs = options.timestampMs ?? 1_736_937_000_000
  const signed = signHeaders(method, method === 'none' ? null : options.secret ?? TEST_SECRET, body, timestampMs)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(signed)) headers[name.toLowerCase()] = value
  return { body, headers, timestampMs }
}
