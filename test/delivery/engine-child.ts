/**
 * The engine as its own process, for the crash, shutdown and multi-process tests:
 *   node --import tsx engine-child.ts <sqlite file | postgres://…#schema> <leaseMs> <graceMs> [breakerThreshold]
 * Prints "ready" once started. SIGTERM: stop (grace period), close the store, print
 * "attempts <n>" (the attempts this process made), exit 0.
 */
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { USER_AGENT } from '../../src/util/version.js'

const [location, leaseMs, graceMs, breakerThreshold] = process.argv.slice(2)
if (location === undefined) throw new Error('usage: engine-child.ts <file | postgres url#schema> <leaseMs> <graceMs>')
const postgres = /^postgres(ql)?:/.test(location) ? new URL(location) : null
const store = postgres === null
  ? await createSqliteStore({ path: location })
  : await createPostgresStore({ connectionString: location.replace(/#.*$/, ''), schema: postgres.hash.slice(1) })
const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
let attempts = 0
const engine = createEngine({
  leaseMs: Number(leaseMs ?? 20_000),
  shutdownGraceMs: Number(graceMs ?? 10_000),
  idlePollMs: 200,
  ...(breakerThreshold === undefined ? {} : { breakerThreshold: Number(breakerThreshold) }),
}, {
  store,
  sender,
  metrics: { recordAttempt () { attempts++ } },
})
engine.start()
process.stdout.write('ready\n')
process.on('SIGTERM', () => {
  void (async () => {
    await engine.stop()
    await sender.close()
    await store.close()
    process.stdout.write(`attempts ${attempts}\n`)
    process.exit(0)
  })()
})
