import type { Static, TSchema } from '@sinclair/typebox'
import type { Envelope } from './envelope.js'
import type { EventType } from './event-types.js'
import { CallAnalyzedDataSchema, CallEndedDataSchema, CallStartedDataSchema } from './schemas/call.js'
import {
  CampaignEndedDataSchema,
  CampaignFailedDataSchema,
  CampaignPausedDataSchema,
  CampaignResumedDataSchema,
  CampaignStartedDataSchema,
} from './schemas/campaign.js'

export interface EventCatalogEntry {
  /** One line, as in the spec's "Event Types" table. */
  description: string
  /** JSON Schema (TypeBox) of the envelope's `data` for this type. */
  schema: TSchema
}

/**
 * Every event type → its description (spec: "Event Types") and the schema of its `data`.
 * docs/events.md documents each field; `validateEventData` checks a payload against it.
 */
export const EVENT_CATALOG = {
  'call.started': {
    description: 'A call has been answered and connected',
    schema: CallStartedDataSchema,
  },
  'call.ended': {
    description: 'A call has ended (before post-call analysis)',
    schema: CallEndedDataSchema,
  },
  'call.analyzed': {
    description: 'Post-call analysis is complete — full results available',
    schema: CallAnalyzedDataSchema,
  },
  'campaign.started': {
    description: 'A campaign has started processing',
    schema: CampaignStartedDataSchema,
  },
  'campaign.ended': {
    description: 'A campaign has completed, been cancelled, or failed',
    schema: CampaignEndedDataSchema,
  },
  'campaign.paused': {
    description: 'A campaign has been paused',
    schema: CampaignPausedDataSchema,
  },
  'campaign.resumed': {
    description: 'A paused campaign has been resumed',
    schema: CampaignResumedDataSchema,
  },
  'campaign.failed': {
    description: 'A campaign has failed due to an error',
    schema: CampaignFailedDataSchema,
  },
} as const satisfies Record<EventType, EventCatalogEntry>

/** Event type → the TypeScript type of its `data`, derived from the schemas. */
export type EventDataMap = { [K in EventType]: Static<(typeof EVENT_CATALOG)[K]['schema']> }

/**
 * Any Kejue event, as a receiver gets it. Narrow on `event` to get the type of `data`:
 * @example
 * if (evt.event === 'call.ended') console.log(evt.data.status)
 */
export type KejueEvent = { [K in EventType]: Envelope<K, EventDataMap[K]> }[EventType]

/** The event of one type: `EventOf<'call.ended'>`. */
export type EventOf<K extends EventType> = Envelope<K, EventDataMap[K]>

export type { CallAnalyzedData, CallEndedData, CallStartedData, CallStatus } from './schemas/call.js'
export type {
  CampaignEndReason,
  CampaignEndedData,
  CampaignFailedData,
  CampaignPausedData,
  CampaignPerformance,
  CampaignResumedData,
  CampaignStartedData,
  CampaignStats,
} from './schemas/campaign.js'
