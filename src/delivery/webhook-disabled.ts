/**
 * The operational event `webhook.disabled` (docs/events.md): sent when a webhook is disabled by
 * a 410 Gone or by failing too long, to the workspace's webhooks that list it by name.
 */
import type { Webhook } from '../store/store.js'

export interface WebhookDisabledData {
  webhook_id: string
  url: string
  reason: 'gone' | 'failing' | 'manual'
  disabled_at: string
  /** Failed deliveries in a row for "failing", failed attempts in a row otherwise. */
  consecutive_failures: number
  last_error: string | null
}

export function webhookDisabledData (webhook: Webhook, lastError: string | null): Record<string, unknown> & WebhookDisabledData {
  const reason = webhook.disabledReason ?? 'manual'
  return {
    webhook_id: webhook.id,
    url: webhook.url,
    reason,
    disabled_at: (webhook.disabledAt ?? webhook.updatedAt).toISOString(),
    consecutive_failures: reason === 'failing' ? webhook.health.failedDeliveriesInRow : webhook.health.consecutiveFailures,
    last_error: lastError,
  }
}
