/**
 * The handoff (docs/scaling.md, "Handoff"): in a process that runs the API and the engine
 * (`serve`, role all), the deliveries of an accepted event are recorded already leased to this
 * process's engine, and the engine gets them from memory once the event is durable. No claim
 * reads them back: on PostgreSQL the claim was the costliest statement per event, and it was a
 * stage of every event's latency (commit → wake → claim → send).
 *
 * Safety is the lease's, as for a claimed delivery: the engine renews it while it holds the
 * delivery and settles with its token; if the process dies, the lease runs out (KEJUE_LEASE_MS)
 * and any engine claims the delivery again (at least once). Only deliveries a claim would hand
 * this engine now are handed off: due now, pending, not held by a breaker, not in a per-call
 * order (their queue decides), not a `listen` session's (its hub claims them), not to a
 * rate-limited webhook (claims pace those), and only while the engine has room (its buffer and
 * the webhook's share of it, reserved before the insert, leaving one claim batch of room for what
 * is due in the store) and no due work of the store is waiting for that room. Everything else is
 * recorded free and claimed as before. A handed-off delivery is held from the moment its lease
 * was issued, so a slow commit makes the engine renew (recheck) the lease before sending it.
 * Its webhook is the one routing read; where the engine knows newer state (a breaker its own
 * settlements opened), that decides whether it goes.
 *
 * The engine is attached to the store it uses (`attachHandoff`), so every producer in the
 * process (the API, test sends, the sandbox, webhook.disabled) hands off without knowing of it.
 */
import type { ClaimedDelivery, NewDelivery, Store, Webhook } from '../store/store.js'
import { isCliWebhook } from './cli-hub.js'

export type HandoffLease = NonNullable<NewDelivery['lease']>

/** What an engine offers to producers of its process (Engine.handoff). */
export interface Handoff {
  /** Room for one more delivery to `webhook`, and the lease to record it with; null: not now. */
  reserve (webhook: Webhook): HandoffLease | null
  /**
   * The event was not recorded as new (a repeated event id) or its write failed: the room goes
   * back, and leases that were written after all are released for a claim.
   */
  cancel (leases: ReadonlyArray<{ deliveryId: string, leaseToken: string }>): void
  /** The reserved deliveries, recorded and durable: the engine holds and sends them. */
  take (claims: ClaimedDelivery[]): void
}

const attached = new WeakMap<Store, Handoff>()

/** From now on, events accepted through `store` in this process hand their deliveries to `handoff`. */
export function attachHandoff (store: Store, handoff: Handoff): void {
  attached.set(store, handoff)
}

interface Handed { delivery: NewDelivery, lease: HandoffLease, webhook: Webhook }

/** The deliveries of one event being handed off: leased in place, then taken or cancelled. */
export interface HandoffTicket {
  /** The event was recorded as new: the engine takes them. */
  take (event: { id: string, type: string, body: string }): void
  /** It was not (a repeated event id, or the write failed). */
  cancel (): void
}

/**
 * Leases (in `deliveries`, before they are recorded) those that `store`'s engine takes now.
 * Null when no engine is attached or it takes none.
 */
export function handOff (store: Store, deliveries: readonly NewDelivery[], targets: readonly Webhook[], now: Date): HandoffTicket | null {
  const handoff = attached.get(store)
  if (handoff === undefined) return null
  const handed: Handed[] = []
  deliveries.forEach((delivery, index) => {
    const webhook = targets[index]
    if (webhook === undefined || isCliWebhook(webhook) || (delivery.orderKey ?? null) !== null) return
    if ((delivery.status ?? 'pending') !== 'pending' || delivery.held === true || delivery.nextAttemptAt > now) return
    const lease = handoff.reserve(webhook)
    if (lease === null) return
    delivery.lease = lease
    handed.push({ delivery, lease, webhook })
  })
  if (handed.length === 0) return null
  return {
    take (event) {
      handoff.take(handed.map(({ delivery, lease, webhook }) => ({
        deliveryId: delivery.id,
        leaseToken: lease.token,
        eventId: event.id,
        eventType: event.type,
        body: event.body,
        attempt: 1,
        maxAttempts: delivery.maxAttempts,
        skipBreaker: delivery.skipBreaker === true,
        webhook,
      })))
    },
    cancel () {
      handoff.cancel(handed.map(({ delivery, lease }) => ({ deliveryId: delivery.id, leaseToken: lease.token })))
    },
  }
}
