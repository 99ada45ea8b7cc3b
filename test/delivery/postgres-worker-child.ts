/**
 * A delivery worker as its own process, on a PostgreSQL schema:
 *   node --import tsx postgres-worker-child.ts <database url> <schema> <name>
 * Prints "ready" once started. SIGTERM: stop, print "attempts <n>" (attempts it made), exit 0.
 */
import { createEngine } from '../../src/delivery/engine.js'
import { createHttpClient } from '../../src/delivery/http-client.js'
import { createPostgresStore } from '../../src/store/postgres/index.js'
import { USER_AGENT } from '../../src/util/version.js'

const [url, schema, name] = process.argv.slice(2)
if (url === undefined || schema === undefined) throw new Error('usage: postgres-worker-child.ts <url> <schema> <name>')
const store = await createPostgresStore({ connectionString: url, schema })
const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
let attempts = 0
const engine = createEngine({ idlePollMs: 200, owner: name ?? `worker-${process.pid}` }, {
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
