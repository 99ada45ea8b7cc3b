import { readFileSync } from 'node:fs'
import type { SigningMethod } from '../../src/signing/methods.js'

/** One entry of test/fixtures/signatures.json, the published signing vectors. */
export interface SignatureVector {
  name: string
  method: SigningMethod
  secret: string | null
  /** Unix milliseconds. */
  timestamp: number
  body: string
  /** standard_webhooks only: the delivery id (webhook-id), which is signed. */
  messageId?: string
  expectedHeaders: Record<string, string>
}

export function loadSignatureVectors (): SignatureVector[] {
  return JSON.parse(readFileSync(new URL('../fixtures/signatures.json', import.meta.url), 'utf8')) as SignatureVector[]
}
