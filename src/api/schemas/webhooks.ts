/**
 * Webhook schemas (docs/api.md: the webhook object and POST/PATCH bodies). Ranges come from
 * docs/wire-format.md#delivery-policy via DEFAULTS.limits; checks a schema cannot express (URL syntax, the destination
 * guard, secret rules per signing method, persona scope) are in ../webhook-input.ts.
 */
import { Type } from '@sinclair/typebox'
import { DEFAULTS } from '../../config/defaults.js'
import { SIGNING_METHODS } from '../../signing/methods.js'
import { EventFilterSchema, IdString, IsoDate, isoTimeInput, Nullable } from './common.js'
import { OPTIONAL_BODY, PATTERN_MESSAGE, WEBHOOK_URL } from '../validation.js'

const L = DEFAULTS.limits
const D = DEFAULTS.delivery

export const UrlSchema = Type.String({ minLength: 1, maxLength: L.urlMaxLength, [WEBHOOK_URL]: true, description: 'http or https URL the events are POSTed to' })
export const EventsSchema = Type.Array(EventFilterSchema, { minItems: 1, maxItems: 50, description: 'Event types to receive, or ["*"]' })
export const NameSchema = Type.String({ maxLength: 200 })
export const SigningMethodSchema = Type.Union(SIGNING_METHODS.map((m) => Type.Literal(m)), { description: 'Default hmac_sha256; standard_webhooks signs as https://www.standardwebhooks.com' })
export const SecretSchema = Type.String({
  minLength: 1,
  maxLength: 1024,
  pattern: '^[\\x20-\\x7E]+$',
  [PATTERN_MESSAGE]: 'printable ASCII text (1–1024 characters)',
  description: 'Generated (whsec_…) when omitted for hmac_sha256, hmac_sha1, bearer and standard_webhooks (whsec_<base64>); "user:password" for basic_auth',
})
export const ScopeTypeSchema = Type.Union([Type.Literal('global'), Type.Literal('persona')], { description: 'Default global' })
export const PersonaIdSchema = Type.String({ minLength: 1, maxLength: 200 })
export const TimeoutMsSchema = Type.Integer({ minimum: L.timeoutMsMin, maximum: L.timeoutMsMax, default: D.timeoutMs })
export const MaxRetriesSchema = Type.Integer({ minimum: L.maxRetriesMin, maximum: L.maxRetriesMax, default: D.maxRetries })
export const BackoffMsSchema = Type.Integer({ minimum: L.backoffMsMin, maximum: L.backoffMsMax, default: D.backoffMs })

export const OrderingSchema = Type.Union([Type.Literal('none'), Type.Literal('per_call')], {
  description: 'per_call: deliveries of one call (data.job_id, data.call.id) go one at a time, in acceptance order. Default none',
})
export const FilterSchema = Type.Object({}, {
  additionalProperties: true,
  description: '{"<dotted envelope path>": condition}; a condition is a JSON literal (equals), {"in": [...]}, {"gt"|"gte"|"lt"|"lte": number} or {"exists": boolean}. All must hold',
  examples: [{ 'data.status': 'completed', 'data.call.score': { gte: 80 } }],
})
export const CustomHeadersSchema = Type.Object({}, {
  additionalProperties: Type.String(),
  description: 'Up to 20 headers sent on every attempt. Host, Content-Length, Content-Type, Transfer-Encoding, Connection, User-Agent, Authorization, X-Kejue-* and webhook-id/-timestamp/-signature are refused',
})
export const RateLimitSchema = Type.Integer({ minimum: 1, maximum: 10_000, description: 'At most this many attempts start in any one second; null for no limit' })
export const RetryScheduleSchema = Type.Array(
  Type.Integer({ minimum: L.retryScheduleDelayMinMs, maximum: L.retryScheduleDelayMaxMs }),
  {
    minItems: 1,
    maxItems: L.retryScheduleMaxLength,
    description: 'Waits before retry 1, 2, … in ms (each 100 ms–24 h, 1–20 of them): 1 + length attempts, instead of backoff_ms doubling. null: the doubling',
  },
)

export const DeliverySettingsInput = Type.Object({
  timeout_ms: Type.Optional(TimeoutMsSchema),
  max_retries: Type.Optional(MaxRetriesSchema),
  backoff_ms: Type.Optional(BackoffMsSchema),
}, { additionalProperties: false, description: 'The same three settings, nested as in the webhook object (either form works)' })

const writableFields = {
  url: UrlSchema,
  events: EventsSchema,
  name: Type.Optional(Nullable(NameSchema)),
  signing_method: Type.Optional(SigningMethodSchema),
  secret: Type.Optional(SecretSchema),
  scope_type: Type.Optional(ScopeTypeSchema),
  persona_id: Type.Optional(Nullable(PersonaIdSchema)),
  timeout_ms: Type.Optional(TimeoutMsSchema),
  max_retries: Type.Optional(MaxRetriesSchema),
  backoff_ms: Type.Optional(BackoffMsSchema),
  delivery_settings: Type.Optional(DeliverySettingsInput),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  ordering: Type.Optional(Nullable(OrderingSchema)),
  filter: Type.Optional(Nullable(FilterSchema)),
  headers: Type.Optional(Nullable(CustomHeadersSchema)),
  rate_limit_per_s: Type.Optional(Nullable(RateLimitSchema)),
  retry_schedule_ms: Type.Optional(Nullable(RetryScheduleSchema)),
}

export const CreateWebhookBody = Type.Object(writableFields, { additionalProperties: false })

export const UpdateWebhookBody = Type.Object({
  ...writableFields,
  url: Type.Optional(UrlSchema),
  events: Type.Optional(EventsSchema),
}, { additionalProperties: false })

const webhookProperties = {
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  name: Nullable(Type.String()),
  signing_method: Type.String(),
  scope_type: Type.String(),
  persona_id: Nullable(Type.String()),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(Type.Union([Type.Literal('manual'), Type.Literal('gone'), Type.Literal('failing')], {
    description: 'Why it is disabled: by hand, a 410 Gone from the endpoint, or failing for too long; null while enabled',
  })),
  disabled_at: Nullable(IsoDate),
  health: Type.Object({
    consecutive_failures: Type.Integer({ description: 'Failed attempts in a row (any non-2xx outcome); a 2xx sets it to 0' }),
    breaker: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
    last_success_at: Nullable(IsoDate),
  }),
  retry_schedule_ms: Nullable(Type.Array(Type.Integer())),
  delivery_settings: Type.Object({
    timeout_ms: Type.Integer(),
    max_retries: Type.Integer(),
    backoff_ms: Type.Integer(),
  }),
  stats: Type.Object({
    total_deliveries: Type.Integer(),
    failed_deliveries: Type.Integer(),
    success_rate: Nullable(Type.Number({ description: 'Percent (0–100) of finished deliveries that succeeded; null before any finished' })),
    parked_deliveries: Type.Integer({ description: 'Deliveries parked while the webhook is disabled' }),
  }),
  ordering: OrderingSchema,
  filter: Nullable(FilterSchema),
  headers: Nullable(CustomHeadersSchema),
  rate_limit_per_s: Nullable(Type.Integer()),
  last_delivery_at: Nullable(IsoDate),
  last_error: Nullable(Type.String()),
  created_at: IsoDate,
  updated_at: IsoDate,
  secret_rotation: Nullable(Type.Object({
    previous_secret_expires_at: IsoDate,
  }, { description: 'A secret rotation in progress: until then the old secret signs X-Kejue-Signature and the new one X-Kejue-Signature-Next; null when none runs' })),
}

export const WebhookObject = Type.Object(webhookProperties)

export const WebhookWithSecret = Type.Object({
  ...webhookProperties,
  secret: Nullable(Type.String({ description: 'Shown only here; null for signing_method none' })),
})

export const RotatedWebhook = Type.Object({
  ...webhookProperties,
  secret: Type.String({ description: 'The new secret, shown only here' }),
  // When the old secret stops signing; null when it stopped at once (overlap_ms 0, bearer, basic_auth).
  previous_secret_expires_at: Nullable(IsoDate),
})

export const WebhookListQuery = Type.Object({
  event: Type.Optional(EventFilterSchema),
}, { additionalProperties: false })

export const WebhookParams = Type.Object({ id: IdString })

/** GET /webhooks/{id}/stats (api/webhook-series.ts). */
export const WebhookStatsResponse = Type.Object({
  window: Type.String(),
  bucket: Type.String(),
  buckets: Type.Array(Type.Object({
    start: IsoDate,
    succeeded: Type.Integer({ description: 'Attempts that started in the bucket and got a 2xx' }),
    failed: Type.Integer({ description: 'Attempts that started in the bucket with any other outcome' }),
    p50_ms: Nullable(Type.Integer({ description: 'Median attempt duration; null for an empty bucket' })),
    p95_ms: Nullable(Type.Integer({ description: '95th percentile attempt duration; null for an empty bucket' })),
  }), { description: 'UTC-aligned, oldest first, empty buckets included' }),
})

export const EnableWebhookBody = Type.Object({
  replay_parked: Type.Optional(Type.Boolean({ default: true, description: 'true: parked deliveries go, oldest event first; false: they end failed with "discarded"' })),
}, { additionalProperties: false, [OPTIONAL_BODY]: true })

export const RecoverBody = Type.Object({
  since: isoTimeInput('Failed deliveries created at or after this'),
  until: Type.Optional(isoTimeInput('…and before this; now when omitted')),
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Count only; requeue nothing' })),
}, { additionalProperties: false })

export const RecoverResponse = Type.Object({
  matched: Type.Integer({ description: 'Failed deliveries created in [since, until), "erased" ones left out' }),
  requeued: Type.Integer({ description: 'How many got a fresh set of attempts (0 for a dry run)' }),
})
