/**
 * `@kejue/webhooks-receiver` (also `kejue-webhooks/receiver`): verify Kejue webhook deliveries.
 * Imports only Node built-ins, and its types import nothing, so packages/receiver ships this
 * folder as a package with no dependencies (see docs/receiving.md).
 */
export { verify, safeVerify, verifySignature, DEFAULT_TOLERANCE_MS } from './verify.js'
export type { VerifyOptions, SecretVerifyOptions, NoneVerifyOptions, SafeVerifyResult } from './verify.js'
export type { VerifiedEvent, RawBody } from './parse-event.js'
export type {
  AnalyzedContact,
  CallAnalysis,
  CallAnalyzedData,
  CallContact,
  CallEndedData,
  CallRetry,
  CallStartedData,
  CallStatus,
  CampaignEndReason,
  CampaignEndedData,
  CampaignError,
  CampaignFailedData,
  CampaignPausedData,
  CampaignPerformance,
  CampaignResumedData,
  CampaignStartedData,
  CampaignStats,
  KejueEnvelope,
  KejueEvent,
  KejueEventDataMap,
  KejueEventOf,
  KejueEventType,
} from './events.js'
export type { HeadersLike, HeadersGetter, HeaderRecord } from './headers.js'
export {
  WebhookVerificationError,
  isWebhookVerificationError,
  VERIFICATION_ERROR_CODES,
  VERIFICATION_ERROR_MESSAGES,
} from './verification-error.js'
export type { WebhookVerificationErrorCode, AuthenticationHeader } from './verification-error.js'
export { RECEIVER_SIGNING_METHODS, isReceiverSigningMethod } from './methods.js'
export type { ReceiverSigningMethod } from './methods.js'
