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
    // docs/wire-format.md#delivery-policy: timeout_ms 1000–30000, max_retries 0–10.
    timeoutMsMin: 1_000,
    timeoutMsMax: 30_000,
    maxRetriesMin: 0,
    maxRetriesMax: 10,
    backoffMsMin: 100,
    backoffMsMax: 3_600_000,
    // retry_schedule_ms: 1–20 waits, each 100 ms–24 h.
    retryScheduleMaxLength: 20,
    retryScheduleDelayMinMs: 100,
    retryScheduleDelayMaxMs: 86_400_000,
    urlMaxLength: 2_083,
  },
  signing: { method: 'hmac_sha256', toleranceMs: 300_000 },
  api: {
    host: '127.0.0.1',
    port: 8080,
    bodyLimitBytes: 1024 * 1024,
    // Delivery log pages: GET /deliveries?limit= (1–100).
    pageSize: 20,
    pageSizeMax: 100,
    // /healthz: one write probe serves every caller this long; a slower probe counts as down.
    healthProbeTtlMs: 1_000,
    healthProbeTimeoutMs: 3_000,
    // A found API key is trusted this long without a store lookup; a revoked key is refused by
    // other processes within it (docs/api.md).
    keyCacheTtlMs: 5_000,
  },
  store: {
    dataDir: './data',
    sqliteFile: 'webhooks.db',
    // How long a SQLite writer waits for another process's write lock before failing.
    sqliteBusyTimeoutMs: 5_000,
    // How long an event batch may wait for company after the previous one (batch-gather.ts);
    // 0 commits at the next turn. Off by default: a few producers that each wait for their answer
    // before sending the next would wait it out together (docs/configuration.md, "Commit gather").
    commitGatherMs: 0,
    // WAL checkpoints (sqlite/checkpointer.ts): a worker thread's every 100 ms while the WAL grows
    // (up to 250 ms apart while idle); the store's connection's own once the WAL reaches 16,000
    // pages (64 MiB), which copies only what the worker has not and starts the WAL over. Not every
    // 20 ms with a 16 MiB bound as before: a checkpoint copies the newest image of each page the
    // commits since the last one changed, and the hot pages (each b-tree's right edge) change in
    // every commit — five times fewer checkpoints took the worker from ~7.5 % to ~4 % of a core
    // at full speed and the bytes written per event 13 % lower (docs/performance.md, "Thirteenth
    // round"). The bound grew with the interval so that a burst at full speed (~10,000 pages/s)
    // still takes more than a second to reach it, and the commit that does finds little to copy.
    sqliteCheckpoint: { busyIntervalMs: 100, idleIntervalMs: 250, walLimitPages: 16_000 },
    // Connections per process to PostgreSQL: the API, the engine's claims and settlements share them.
    postgresPoolSize: 10,
    // How long the service waits for a PostgreSQL statement's answer before it gives up on it and
    // on its connection (bulk statements wait longer: pool.ts). Without it a connection that went silent — a
    // host or network gone without closing anything — held its caller until TCP keep-alive gave
    // up, ~11 minutes with Linux's defaults (docs/storage.md, "When the store goes away").
    postgresQueryTimeoutMs: 15_000,
  },
  engine: {
    // Enough to keep a loopback receiver busy; a dead endpoint can hold at most perWebhook slots.
    maxInFlight: 256,
    maxInFlightPerWebhook: 64,
    claimBatch: 128,
    // A claimed delivery not settled or renewed within this comes back to the queue (crash
    // recovery). Renewed every leaseMs/3 while an attempt runs; kept under the 30 s
    // "attempted again within 30 s of the restart".
    leaseMs: 20_000,
    // How long SIGTERM waits for attempts in flight before handing them back.
    shutdownGraceMs: 10_000,
    // The HTTP work of attempts off the main event loop (docs/scaling.md, "Sender thread").
    senderThread: true,
    // The sender thread yields the CPU to the event loop when both want it (docs/scaling.md, "Thread priorities").
    senderThreadNice: 5,
    // Response bodies are read up to this and kept as an excerpt.
    responseExcerptBytes: 4_096,
  },
  // Endpoint health (docs/delivery.md, "The life of an endpoint").
  health: {
    // Failed attempts in a row that open a webhook's breaker (0: no breaker).
    breakerThreshold: 5,
    // The breaker's first cool-down before a probe; doubles after each failed probe, up to 20×.
    breakerCooldownMs: 30_000,
    // Auto-disable: this many deliveries in a row ended failed (0: never)…
    autoDisableMinFailures: 20,
    // …the first of them created more than this long ago (five days).
    autoDisableAfterMs: 432_000_000,
  },
  // Engine timings tuned with `npm run bench`, not settings (engine options in code only).
  engineTuning: {
    // The longest idle sleep: how late work recorded by another process is seen without NOTIFY.
    idlePollMs: 1_000,
    // Outcomes gather this long before one commit records them all (group commit; 25 beat 50).
    settleDelayMs: 25,
    // An attempt still running after this leaves the global in-flight budget for the stall lane,
    // so dead endpoints cannot hold the slots healthy ones need (docs/delivery.md "Isolation").
    stallAfterMs: 1_000,
    // While claims keep finding work, the store's answer to "when is the next delivery due?"
    // is reused this long, while that time is still ahead, instead of asked after every claim
    // (one statement per claim less).
    // New events and released work wake the engine anyway, its own retries set its timer, and
    // the idle poll still bounds how late anything else is seen.
    nextDueReuseMs: 100,
    // While the store fails, claims back off from idlePollMs up to this.
    maxStoreBackoffMs: 5_000,
    // A failed settle write is retried this many times (backoff as above) while the leases hold.
    settleWriteTries: 4,
    // Rate-limited webhooks: send slots reserved at once, as a share of one second's worth, so
    // that several processes share a limit (docs/delivery.md "Rate limits").
    rateReserveFraction: 0.25,
    // A send slot is used at most this late (or one slot interval, if longer), else given up: so
    // that processes whose timers ran late cannot bunch their slots (docs/delivery.md "Rate limits").
    rateSlotLateMs: 25,
    // A claim buffered longer than this has its lease checked before it is sent: an erasure (or a
    // retry elsewhere) in the meantime fences it off, and it is not sent (docs/privacy.md).
    recheckHeldAfterMs: 1_000,
  },
  // `listen --forward-to` sessions (delivery/cli-hub.ts).
  cliHub: {
    // The hub's lease on a pushed delivery: longer than any timeout plus the report's way back.
    leaseMs: 60_000,
    // How long a report may take to come back after the attempt's timeout.
    reportGraceMs: 5_000,
    // Claims while the hub has sessions: new events also wake it, retries come due on this beat.
    pollMs: 250,
    claimBatch: 32,
    heartbeatMs: 10_000,
    // Six missed heartbeats: the process is gone, not busy.
    staleMs: 60_000,
  },
  retention: {
    // KEJUE_RETENTION_DAYS: settled deliveries, their attempts and events are kept this long (0 = forever).
    days: 30,
    // Rows per retention batch: one short write transaction each, so claims and settles interleave.
    batchSize: 500,
    // Pause between full batches (the engine gets the store in between) and sleep when nothing is left.
    batchPauseMs: 50,
    idleIntervalMs: 60_000,
  },
  secrets: {
    // POST /webhooks/{id}/rotate-secret: how long the old secret keeps signing (24 h, as Svix), at most 7 days.
    rotationOverlapMs: 86_400_000,
    rotationOverlapMaxMs: 604_800_000,
  },
  // Failure-rate window of the /metrics queue gauges and the dashboard's health strip.
  metrics: { failedWindowMs: 5 * 60_000 },
  // POST /portal-sessions: how long a dashboard link lives (ttl_s), in seconds.
  portal: { ttlS: 3_600, ttlSMin: 60, ttlSMax: 86_400 },
  // GET /webhooks/{id}/stats: the bucket each window gets when none is asked for.
  charts: { defaultBucket: { '1h': '5m', '24h': '1h', '7d': '1d' } },
  simulator: {
    speed: 1,
    maxConcurrentCalls: 10,
    // A simulated call is dialled at most this often, re-dials this long apart (Kejue's own call retry).
    callMaxAttempts: 3,
    callRetryDelayMs: 600_000,
    // `npm run demo`: a 50-contact campaign at 1000× with one first attempt in ten failing, well within a minute.
    demoContacts: 50,
    demoSpeed: 1_000,
    demoTimeoutMs: 55_000,
    demoFlakyRate: 0.1,
    // `kejue-webhooks listen`: where it listens, what it answers, how often it fails a first attempt.
    listenerPort: 4_000,
    listenerHost: '127.0.0.1',
    listenerStatus: 200,
    listenerFailRate: 0,
    // The longest the sandbox holds call.analyzed back until call.ended's deliveries settled:
    // the default timeout × 4 attempts + backoffs + claiming, rounded up.
    deliveryWaitMs: 35_000,
  },
} as const
