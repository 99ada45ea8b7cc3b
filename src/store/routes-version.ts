/**
 * Columns of `webhooks` whose change leaves the routes version (Store.routingState, migration
 * 0011) where it is: settling writes them all the time (the webhook's last attempt and error, the
 * health counters, `updated_at`), and neither routing nor the gates a routed delivery passes read
 * them. Any other column moves it, on both stores. As of migration 0011: a change here needs a new
 * migration that makes the triggers again.
 */
export const ROUTES_VOLATILE_COLUMNS: readonly string[] = [
  'updated_at', 'last_attempt_at', 'last_error', 'last_error_at', 'consecutive_failures',
  'last_success_at', 'failed_deliveries_in_row', 'failing_since',
]
