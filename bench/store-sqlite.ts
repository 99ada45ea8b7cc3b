/**
 * Micro-benchmark of the SQLite store's queue path (not a test):
 *   1. ingestion: N events with one delivery each, recorded `CONCURRENCY` at a time (group commit);
 *   2. claim + complete: batches of `BATCH` claimed, then settled in one completeAttempts call,
 *      until the queue is empty — what the delivery engine does, minus the HTTP.
 * Usage: node --import tsx bench/store-sqlite.ts [deliveries=50000] [batch=128]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import type { AttemptResult, RecordEventInput, Webhook } from '../src/store/store.js'
import { newId } from '../src/util/ids.js'

const TOTAL = Number(process.argv[2] ?? 50_000)
const BATCH = Number(process.argv[3] ?? 128)
const CONCURRENCY = 256
const WEBHOOKS = 16

function rate (count: number, ms: number): string {
  return `${Math.round(count / (ms / 1000)).toLocaleString('en-US')}/s`
}

const dir = mkdtempSync(join(tmpdir(), 'kejue-bench-'))
const store = await createSqliteStore({ path: join(dir, 'bench.db') })
try {
  const workspaceId = newId('ws')
  await store.createWorkspace({ id: workspaceId, name: 'bench', createdAt: new Date() })
  const webhooks: Webhook[] = []
  for (let i = 0; i < WEBHOOKS; i++) {
    webhooks.push(await store.createWebhook({
      id: newId('wh'), workspaceId, url: `https://example.com/hook/${i}`, events: ['*'], name: null,
      signingMethod: 'hmac_sha256', secret: 'whsec_bench', scopeType: 'global', personaId: null, enabled: true,
      jobId: null, timeoutMs: 5_000, maxRetries: 3, backoffMs: 500,
    }, new Date()))
  }
  const body = JSON.stringify({ event: 'call.ended', data: { job_id: 'job_1', transcript: 'x'.repeat(600) }, metadata: {} })

  function input (i: number): RecordEventInput {
    const webhook = webhooks[i % WEBHOOKS] as Webhook
    const now = new Date()
    return {
      event: { id: newId('evt'), workspaceId, type: 'call.ended', body, createdAt: now },
      deliveries: [{ id: newId('dlv'), webhookId: webhook.id, url: webhook.url, maxAttempts: 4, nextAttemptAt: now }],
    }
  }

  let started = performance.now()
  for (let i = 0; i < TOTAL; i += CONCURRENCY) {
    const chunk = Array.from({ length: Math.min(CONCURRENCY, TOTAL - i) }, (_, j) => input(i + j))
    await Promise.all(chunk.map((event) => store.recordEvent(event)))
  }
  const ingestMs = performance.now() - started
  console.log(`recordEvent: ${TOTAL} events in ${ingestMs.toFixed(0)} ms = ${rate(TOTAL, ingestMs)} (${CONCURRENCY} concurrent, group commit)`)

  let done = 0
  let rounds = 0
  let claimCpu = 0
  let completeCpu = 0
  const cpuBefore = process.cpuUsage()
  started = performance.now()
  while (true) {
    const now = new Date()
    const c0 = process.cpuUsage()
    const claimed = await store.claimDue({ now, limit: BATCH, leaseMs: 20_000, owner: 'bench' })
    claimCpu += process.cpuUsage(c0).user
    if (claimed.length === 0) break
    const results: AttemptResult[] = claimed.map((c) => ({
      deliveryId: c.deliveryId,
      leaseToken: c.leaseToken,
      attempt: { attempt: c.attempt, startedAt: now, durationMs: 3, statusCode: 200, error: null, responseExcerpt: 'ok' },
      settlement: { status: 'succeeded' },
    }))
    const c1 = process.cpuUsage()
    const { rejected } = await store.completeAttempts(results, new Date())
    completeCpu += process.cpuUsage(c1).user
    if (rejected.length > 0) throw new Error(`unexpected rejections: ${rejected.length}`)
    done += claimed.length
    rounds++
  }
  const cycleMs = performance.now() - started
  console.log(`claim+complete: ${done} deliveries in ${cycleMs.toFixed(0)} ms = ${rate(done, cycleMs)} (batches of ${BATCH}, ${rounds} rounds, ${(cycleMs / rounds).toFixed(2)} ms/round)`)
  const cpu = process.cpuUsage(cpuBefore)
  const cpuMs = (cpu.user + cpu.system) / 1000
  console.log(`  CPU of this process: ${cpuMs.toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)}, system ${(cpu.system / 1000).toFixed(0)}) = ${rate(done, cpuMs)} per busy core; the rest of the wall time is fsync and waiting for a CPU`)
  console.log(`  user CPU: claim ${(claimCpu / 1000).toFixed(0)} ms, complete ${(completeCpu / 1000).toFixed(0)} ms`)
  if (done !== TOTAL) throw new Error(`claimed ${done} of ${TOTAL}`)
} finally {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
}
