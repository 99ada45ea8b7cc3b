/**
 * The operational event `webhook.disabled` (docs/events.md): sent when a webhook is disabled by
 * a 410 Gone or by failing too long, to the workspace's webhooks that list it by name.
 */
import type { WebhookDisabledData } from '../events/schemas/operational.js'
import type { Webhook } from '../store/store.js'

/** The event's data for a webhook the engine has just disabled ("gone" or "failing"). */
export function webhookDisabledData (webhook: Webhook, lastError: string | null): Record<string, unknown> & WebhookDisabledData {
  const reason = webhook.disabledReason === 'gone' ? 'gone' : 'failing'
  return {
    webhook_id: webhook.id,
    url: webhook.url,
    reason,
    disabled_at: (webhook.disabledAt ?? webhook.updatedAt).toISOString(),
    consecutive_failures: reason === 'failing' ? webhook.health.failedDeliveriesInRow : webhook.health.consecutiveFailures,
    last_error: lastError,
  }
}
