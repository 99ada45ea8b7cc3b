/**
 * kejue-webhooks as a library: the event catalog, signing, the store, the delivery engine and the
 * API app, for embedding in another Node.js service. Re-exports only. The receiver side is
 * `kejue-webhooks/receiver` (node built-ins only).
 */
export { EVENT_TYPES, isEventType, matchesEventFilter } from './events/event-types.js'
export type { EventType, EventFilter } from './events/event-types.js'
export { EVENT_CATALOG } from './events/catalog.js'
export type { KejueEvent, EventDataMap, EventOf } from './events/catalog.js'
export { createEnvelope, serializeEnvelope } from './events/envelope.js'
export type { Envelope } from './events/envelope.js'
export { validateEventData, validateEventType } from './events/validate.js'
export { samplePayload } from './events/samples.js'
export { computeCampaignPerformance } from './events/performance.js'

export { SIGNING_METHODS, isSigningMethod } from './signing/methods.js'
export type { SigningMethod } from './signing/methods.js'
export { signHeaders } from './signing/signer.js'

export type { Store } from './store/store.js'
export { openStore, migrateOnly } from './store/open-store.js'

export { acceptEvent } from './delivery/accept-event.js'
export type { AcceptEventInput, AcceptedEvent } from './delivery/accept-event.js'
export { createEngine } from './delivery/engine.js'
export type { Engine, EngineOptions } from './delivery/engine.js'
export { createHttpClient } from './delivery/http-client.js'
export { decideRetry } from './delivery/retry-policy.js'
export { checkDestination, isForbiddenAddress } from './delivery/ssrf.js'

export { buildApp } from './api/app.js'
export { resolveConfig } from './config/load.js'
export { ServiceError } from './errors.js'
export type { ErrorCode, FieldError } from './errors.js'
