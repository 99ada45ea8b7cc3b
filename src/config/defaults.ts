/**
 * Every default in one literal. Units are in the names. Values from the spec cite it.
 */
export const DEFAULTS = {
  delivery: {
    // spec "Delivery & Retries": 5 s timeout, 3 retries, 500 ms initial backoff that doubles.
    timeoutMs: 5_000,
    maxRetries: 3,
    backoffMs: 500,
  },
  limits: {
    // contract §2: timeout_ms 1000–30000, max_retries 0–10.
    timeoutMsMin: 1_000,
    timeoutMsMax: 30_000,
    maxRetriesMin: 0,
    maxRetriesMax: 10,
    backoffMsMin: 100,
    backoffMsMax: 3_600_000,
    urlMaxLength: 2_083,
  },
  signing: { method: 'hmac_sha256', toleranceMs: 300_000 },
  api: { host: '127.0.0.1', port: 8080, bodyLimitBytes: 1024 * 1024 },
  store: { dataDir: './data', sqliteFile: 'webhooks.db' },
  engine: {
    // Enough to keep a loopback receiver busy; a dead endpoint can hold at most perWebhook slots.
    maxInFlight: 256,
    maxInFlightPerWebhook: 64,
    claimBatch: 128,
    // A claimed delivery not settled or renewed within this comes back to the queue (crash
    // recovery). Renewed every leaseMs/3 while an attempt runs; kept under the contract's 30 s
    // "attempted again within 30 s of the restart".
    leaseMs: 20_000,
    // How long SIGTERM waits for attempts in flight before handing them back.
    shutdownGraceMs: 10_000,
    // Response bodies are read up to this and kept as an excerpt.
    responseExcerptBytes: 4_096,
  },
} as const
