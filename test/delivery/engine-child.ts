/**
 * The engine as its own process, for the crash and shutdown tests:
 *   node --import tsx engine-child.ts <sqlite file> <leaseMs> <graceMs>
 * Prints "ready" once started. SIGTERM: stop (grace period), close the store, exit 0.
 */
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { USER_AGENT } from '../../src/util/version.js'

const [path, leaseMs, graceMs] = process.argv.slice(2)
if (path === undefined) throw new Error('usage: engine-child.ts <file> <leaseMs> <graceMs>')
const store = await createSqliteStore({ path })
const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
const engine = createEngine({ leaseMs: Number(leaseMs ?? 20_000), shutdownGraceMs: Number(graceMs ?? 10_000), idlePollMs: 200 }, { store, sender })
engine.start()
process.stdout.write('ready\n')
process.on('SIGTERM', () => {
  void (async () => {
    await engine.stop()
    await sender.close()
    await store.close()
    process.exit(0)
  })()
})
