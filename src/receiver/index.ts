/**
 * `kejue-webhooks/receiver`: verify Kejue webhook deliveries. Imports only Node built-ins at
 * runtime, so it can be used without the rest of the package (see docs/receiving.md).
 */
export { verify, safeVerify, verifySignature, DEFAULT_TOLERANCE_MS } from './verify.js'
export type { VerifyOptions, SecretVerifyOptions, NoneVerifyOptions, SafeVerifyResult } from './verify.js'
export type { VerifiedEvent, RawBody } from './parse-event.js'
export type { HeadersLike, HeadersGetter, HeaderRecord } from './headers.js'
export {
  WebhookVerificationError,
  isWebhookVerificationError,
  VERIFICATION_ERROR_CODES,
  VERIFICATION_ERROR_MESSAGES,
} from './verification-error.js'
export type { WebhookVerificationErrorCode } from './verification-error.js'
export { RECEIVER_SIGNING_METHODS, isReceiverSigningMethod } from './methods.js'
export type { ReceiverSigningMethod } from './methods.js'
