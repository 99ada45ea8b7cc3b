/**
 * Child process for test/store.sqlite-durability.test.ts: records events (and settles some
 * deliveries) into a SQLite file as fast as it can, printing what each resolved call acknowledged:
 *   `event <event id> <delivery id>` after recordEvent resolved,
 *   `settled <delivery id>` after completeAttempts resolved.
 * It never exits by itself; the test SIGKILLs it.
 * Usage: node --import tsx test/helpers/sqlite-record-events.ts <db path> <workspace id> <webhook id> [commit gather ms]
 */
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { at, claimOptions, eventFor, result } from '../contract/store-fixtures.js'

const [path, workspaceId, webhookId, gather] = process.argv.slice(2)
if (path === undefined || workspaceId === undefined || webhookId === undefined) {
  console.error('usage: sqlite-record-events.ts <db path> <workspace id> <webhook id>')
  process.exit(2)
}

const store = await createSqliteStore({ path, commitGatherMs: Number(gather ?? '0') })
const webhook = await store.getWebhook(workspaceId, webhookId)
if (webhook === null) throw new Error('webhook not found')

for (let i = 0; ; i++) {
  // Several at once, so that group commit (many events per transaction) is what gets killed too.
  await Promise.all([0, 1, 2, 3].map(async () => {
    const input = eventFor([webhook])
    await store.recordEvent(input)
    process.stdout.write(`event ${input.event.id} ${input.deliveries[0]?.id ?? ''}\n`)
  }))
  if (i % 3 === 2) {
    const claimed = await store.claimDue(claimOptions(at(0), { limit: 2 }))
    await store.completeAttempts(claimed.map((c) => result(c, { status: 'succeeded' })), at(1))
    for (const c of claimed) process.stdout.write(`settled ${c.deliveryId}\n`)
  }
}
