/**
 * The sandbox: the simulator attached to a store. It turns the call and campaign state machines'
 * `emit` into accepted events (acceptEvent, the one way in; routing to inline webhooks and
 * subscriptions happens there) and keeps the campaigns of each workspace.
 *
 * The service creates one when it runs with the simulator on (`KEJUE_SIMULATOR=true` or
 * `serve --simulate`); the API then dials every call created with POST /persona-calls and
 * serves /campaigns. State lives in memory: a restart forgets campaigns (events already accepted
 * are durable like any other).
 */
import { DEFAULTS } from '../config/defaults.js'
import { randomInt } from 'node:crypto'
import { ServiceError, coerceError, notFound } from '../errors.js'
import { acceptEvent } from '../delivery/accept-event.js'
import type { EventType } from '../events/event-types.js'
import type { Store } from '../store/store.js'
import { newId } from '../util/ids.js'
import { createCallSimulator } from './call-simulator.js'
import type { EmitFn, EmitReceipt, SimContact } from './call-simulator.js'
import { createCampaign } from './campaign-simulator.js'
import type { Campaign, CampaignSnapshot } from './campaign-simulator.js'
import { DEFAULT_OUTCOME_WEIGHTS } from '../config/outcome-weights.js'
import type { OutcomeWeights } from '../config/outcome-weights.js'
import { fakeContact } from './outcomes.js'
import { deriveSeed, randomFor } from './random.js'
import { createScheduler } from './scheduler.js'
import type { Scheduler } from './scheduler.js'
import type { TimerClock } from '../util/clock.js'

export interface SandboxOptions {
  /** Simulated time runs this many times faster than real time. @defaultValue 1 */
  speed?: number
  /** Fixes every random draw; null draws a fresh seed per campaign and call. @defaultValue null */
  seed?: number | null
  /** Relative weights of the call outcomes. @defaultValue DEFAULT_OUTCOME_WEIGHTS */
  outcomeWeights?: OutcomeWeights
  /** Calls on the line at once per campaign, unless the campaign says otherwise. @defaultValue 10 */
  maxConcurrentCalls?: number
  /**
   * Real ms to wait for an event's deliveries to settle (succeed, or fail for good) before
   * emitting an event that must arrive after it (call.analyzed after call.ended — only for
   * webhooks without per-call ordering, which keep the order themselves —, campaign.ended
   * last); 0 disables. Waiting for the first attempt is not enough: an attempt the engine timed
   * out may still reach the receiver, after a later event. The default covers the default retry
   * schedule (0.5 + 1 + 2 s of backoff) even against a slow endpoint.
   * @defaultValue 35000
   */
  deliveryWaitMs?: number
}

export interface ResolvedSandboxOptions {
  speed: number
  seed: number | null
  outcomeWeights: OutcomeWeights
  maxConcurrentCalls: number
  deliveryWaitMs: number
}

export interface CampaignInput {
  name: string
  personaId: string | null
  contacts: Array<{ id?: string, name?: string | null, phone?: string | null }>
  autoStart?: boolean
  maxConcurrentCalls?: number
  seed?: number
  failAfterCalls?: number | null
}

export interface PersonaCallInput {
  jobId: string
  personaId: string | null
  contact: SimContact
}

export interface Sandbox {
  readonly options: ResolvedSandboxOptions
  /** Places the call in the background: its events follow over simulated minutes. */
  dialCall (workspaceId: string, call: PersonaCallInput): void
  createCampaign (workspaceId: string, input: CampaignInput): Promise<CampaignSnapshot>
  getCampaign (workspaceId: string, id: string): CampaignSnapshot
  /** Waits for campaign.ended (tests, the demo). */
  campaignEnded (workspaceId: string, id: string): Promise<CampaignSnapshot>
  startCampaign (workspaceId: string, id: string): Promise<CampaignSnapshot>
  pauseCampaign (workspaceId: string, id: string): Promise<CampaignSnapshot>
  resumeCampaign (workspaceId: string, id: string): Promise<CampaignSnapshot>
  cancelCampaign (workspaceId: string, id: string): Promise<CampaignSnapshot>
  /** Stops every timer: calls and campaigns in progress stop where they are. */
  stop (): void
}

export interface SandboxDeps {
  store: Store
  clock?: TimerClock
  onError?: (error: Error) => void
}

export function resolveSandboxOptions (options: SandboxOptions = {}): ResolvedSandboxOptions {
  const weights = options.outcomeWeights ?? DEFAULT_OUTCOME_WEIGHTS
  const total = Object.values(weights).reduce((sum, w) => sum + w, 0)
  if (Object.values(weights).some((w) => !(w >= 0)) || !(total > 0)) {
    throw new RangeError('outcome weights must be numbers ≥ 0 with a positive sum')
  }
  return {
    speed: options.speed ?? DEFAULTS.simulator.speed,
    seed: options.seed ?? null,
    outcomeWeights: { ...DEFAULT_OUTCOME_WEIGHTS, ...weights },
    maxConcurrentCalls: options.maxConcurrentCalls ?? DEFAULTS.simulator.maxConcurrentCalls,
    deliveryWaitMs: options.deliveryWaitMs ?? DEFAULTS.simulator.deliveryWaitMs,
  }
}

const POLL_MS = 20

export function createSandbox (options: SandboxOptions, deps: SandboxDeps): Sandbox {
  const resolved = resolveSandboxOptions(options)
  const { store } = deps
  const scheduler: Scheduler = createScheduler({ speed: resolved.speed }, { clock: deps.clock })
  const campaigns = new Map<string, { workspaceId: string, campaign: Campaign }>()
  let campaignCount = 0
  let stopped = false
  // After stop(), calls still on the line fail to emit: expected, not worth reporting.
  const onError = (error: unknown): void => {
    if (!stopped) deps.onError?.(coerceError(error))
  }

  async function settled (workspaceId: string, deliveryIds: readonly string[]): Promise<void> {
    const deadline = Date.now() + resolved.deliveryWaitMs
    for (const id of deliveryIds) {
      while (!stopped && Date.now() < deadline) {
        const delivery = await store.getDelivery(workspaceId, id)
        if (delivery === null || delivery.status !== 'pending') break
        await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      }
    }
  }

  /** The deliveries among `ids` to webhooks without per-call ordering (docs/delivery.md). */
  async function unordered (workspaceId: string, ids: readonly string[]): Promise<string[]> {
    const out: string[] = []
    const ordering = new Map<string, boolean>()
    for (const id of ids) {
      const delivery = await store.getDelivery(workspaceId, id)
      if (delivery === null) continue
      let ordered = ordering.get(delivery.webhookId)
      if (ordered === undefined) {
        ordered = (await store.getWebhook(workspaceId, delivery.webhookId))?.ordering === 'per_call'
        ordering.set(delivery.webhookId, ordered)
      }
      if (!ordered) out.push(id)
    }
    return out
  }

  function emitterFor (workspaceId: string): EmitFn {
    return async (type: EventType, data: Record<string, unknown>): Promise<EmitReceipt> => {
      if (stopped) throw new ServiceError('CONFLICT', 'the simulator has stopped')
      // acceptEvent checks the payload against the catalog; one it refuses is a bug here, never
      // the caller's bad input, so it is reported as INTERNAL rather than VALIDATION.
      const accepted = await acceptEvent(store, {
        workspaceId,
        event: type,
        data,
        metadata: { simulated: true },
        timestamp: scheduler.now(),
      }).catch((err: unknown) => {
        if (err instanceof ServiceError && err.code === 'VALIDATION') {
          throw new ServiceError('INTERNAL', `simulator built an invalid ${type}: ${err.message}`, { cause: err })
        }
        throw err
      })
      if (resolved.deliveryWaitMs <= 0 || accepted.deliveryIds.length === 0) return {}
      return {
        settled: () => settled(workspaceId, accepted.deliveryIds),
        unorderedSettled: async () => { await settled(workspaceId, await unordered(workspaceId, accepted.deliveryIds)) },
      }
    }
  }

  function seedFor (...keys: Array<string | number>): number {
    return resolved.seed === null ? randomInt(0, 2 ** 32 - 1) : deriveSeed(resolved.seed, ...keys)
  }

  function find (workspaceId: string, id: string): Campaign {
    const entry = campaigns.get(id)
    // Another workspace's campaign is as unknown as a missing one (docs/api.md: 404).
    if (entry === undefined || entry.workspaceId !== workspaceId) throw notFound('campaign')
    return entry.campaign
  }

  return {
    options: resolved,

    dialCall (workspaceId, call) {
      const calls = createCallSimulator({ seed: seedFor('call', call.contact.id), outcomeWeights: resolved.outcomeWeights }, { scheduler, emit: emitterFor(workspaceId) })
      calls.dial({ ...call, campaignId: null, streamKey: call.jobId }).catch(onError)
    },

    async createCampaign (workspaceId, input) {
      campaignCount++
      const seed = input.seed ?? seedFor('campaign', campaignCount)
      const contactRandom = randomFor(seed, 'contacts')
      const contacts: SimContact[] = input.contacts.map((contact) => {
        const made = fakeContact(contactRandom)
        return { id: contact.id ?? newId('ct'), name: contact.name ?? made.name, phone: contact.phone ?? made.phone }
      })
      const emit = emitterFor(workspaceId)
      const calls = createCallSimulator({ seed, outcomeWeights: resolved.outcomeWeights }, { scheduler, emit })
      const campaign = createCampaign({
        name: input.name,
        personaId: input.personaId,
        contacts,
        maxConcurrentCalls: input.maxConcurrentCalls ?? resolved.maxConcurrentCalls,
        failAfterCalls: input.failAfterCalls ?? null,
        streamKey: 'campaign',
      }, { scheduler, calls, emit, onError })
      campaigns.set(campaign.id, { workspaceId, campaign })
      if (input.autoStart === true) await campaign.start()
      return campaign.snapshot()
    },

    getCampaign: (workspaceId, id) => find(workspaceId, id).snapshot(),
    campaignEnded: (workspaceId, id) => find(workspaceId, id).ended,

    async startCampaign (workspaceId, id) {
      const campaign = find(workspaceId, id)
      await campaign.start()
      return campaign.snapshot()
    },
    async pauseCampaign (workspaceId, id) {
      const campaign = find(workspaceId, id)
      await campaign.pause()
      return campaign.snapshot()
    },
    async resumeCampaign (workspaceId, id) {
      const campaign = find(workspaceId, id)
      await campaign.resume()
      return campaign.snapshot()
    },
    async cancelCampaign (workspaceId, id) {
      const campaign = find(workspaceId, id)
      // Answers once the cancel is decided; campaign.ended follows when the calls on the line end.
      await campaign.cancel()
      return campaign.snapshot()
    },

    stop () {
      stopped = true
      scheduler.stop()
    },
  }
}
