/**
 * The ingest path as producers use it: events POSTed to `POST /api/v1/events` of a real `serve`
 * process (role all), delivered by its engine to the run's loopback receiver.
 *
 *  - full:    N events with 64 requests in flight; the rate from the first POST to the last
 *             arrival at the receiver (÷ the raw signed-POST baseline), and the acks' p50/p99.
 *  - latency: a steady R events/s for S seconds; receiver-side p50/p99 of
 *             (arrival − the time the event was due to be sent), so a sender that falls behind
 *             shows up as latency rather than hiding it.
 */
import { fileURLToPath } from 'node:url'
import { samplePayload } from '../src/events/samples.js'
import type { BenchContext, Phase } from './phase.js'
import { numberArg, percentile, postgresCpuMs, postgresCpuSince, sleep } from './phase.js'
import { startService } from './service.js'
import type { Service } from './service.js'

const SECRET = 'whsec_bench'
/** The measure (and the baseline's): 64 in flight. `--in-flight N` sweeps capacity. */
const IN_FLIGHT = 64
const GOALS = {
  full: { sqlite: '≥ 0.35×', postgres: '≥ 0.20×' },
  p99: { sqlite: '≤ 20 ms', postgres: '≤ 50 ms' },
}

function clock (): number {
  return performance.timeOrigin + performance.now()
}

interface Ready { service: Service, key: string }

function inFlightArg (ctx: BenchContext): number {
  return Math.floor(numberArg(ctx, 'in-flight'))
}

/**
 * A service on a fresh store with one webhook to the receiver, warmed up, receiver reset. The
 * warm-up (--warmup N events at full speed, 5,000) is what a service that has been running a
 * while has behind it: its hot paths compiled by V8 and its caches and files grown. With 500,
 * a latency run's first second (p50 45–60 ms here) made most of its p99 (docs/performance.md).
 */
async function ready (ctx: BenchContext, entry?: readonly string[]): Promise<Ready> {
  const warmUp = numberArg(ctx, 'warmup')
  const inFlight = inFlightArg(ctx)
  // One connection per request in flight, so that none waits in the client.
  const service = await startService({ connections: inFlight, location: await ctx.freshStore(), profileDir: ctx.args.profile as string | undefined, entry, serve: ctx.serve })
  try {
    const { key } = await service.createWorkspace()
    await service.createWebhook(key, ctx.receiverUrl, SECRET)
    await ctx.receiver.reset()
    await post(service, key, warmUp, inFlight)
    await ctx.receiver.waitForCount(warmUp, 120_000)
    await ctx.receiver.reset()
    return { service, key }
  } catch (err) {
    await service.stop()
    throw err
  }
}

const data = samplePayload('call.ended')

async function publish (service: Service, key: string, metadata?: Record<string, unknown>): Promise<number> {
  const started = performance.now()
  const res = await service.call('POST', '/api/v1/events', key, { event: 'call.ended', data, metadata })
  if (res.status !== 202) throw new Error(`POST /events: HTTP ${res.status} ${JSON.stringify(res.body)}`)
  return performance.now() - started
}

/** `total` events, `inFlight` at a time; the ack latencies. */
export async function post (service: Service, key: string, total: number, inFlight: number): Promise<number[]> {
  const acks: number[] = []
  let next = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) {
      next++
      acks.push(await publish(service, key))
    }
  }))
  return acks
}

/** The service's CPU time (ms) from now on: all its threads', and its event loop's alone. */
function cpuMeter (service: Service): () => { cpuMs: number, loopMs: number } {
  const cpuBefore = service.cpuMs()
  const loopBefore = service.eventLoopCpuMs()
  return () => ({ cpuMs: service.cpuMs() - cpuBefore, loopMs: service.eventLoopCpuMs() - loopBefore })
}

/** N events through `ready`'s service at `--in-flight`: the rate to the receiver, CPU per event, acks. */
async function measureFullPath (ctx: BenchContext, what: string, entry?: readonly string[]): Promise<void> {
  const total = numberArg(ctx, 'events')
  const inFlight = inFlightArg(ctx)
  const { service, key } = await ready(ctx, entry)
  try {
    const cpu = cpuMeter(service)
    const writtenBefore = service.writtenBytes()
    const databaseBefore = ctx.store === 'postgres' && entry === undefined ? postgresCpuMs() : null
    const started = clock()
    const acks = await post(service, key, total, inFlight)
    const ackSeconds = (clock() - started) / 1000
    const stats = await ctx.receiver.waitForCount(total, 600_000)
    const { cpuMs, loopMs } = cpu()
    const written = service.writtenBytes() - writtenBefore
    const databaseMs = databaseBefore === null ? null : postgresCpuSince(databaseBefore)
    const rate = total / ((stats.lastAt - started) / 1000)
    acks.sort((a, b) => a - b)
    ctx.report({ figure: `${what}, POST /events → receiver`, value: rate, unit: 'ev/s', vsBaseline: true, goal: entry === undefined ? GOALS.full[ctx.store] : undefined })
    // Less sensitive to other load on the machine than the rates: what each event costs the service.
    ctx.report({ figure: `${what}: service CPU per event`, value: (cpuMs * 1000) / total, unit: 'µs' })
    // Where it went: the event loop (the part whose saturation limits the rate, docs/scaling.md)
    // and every other thread (the sender, SQLite's checkpoints, V8's GC helpers, libuv's pool).
    ctx.report({ figure: `${what}: … of it on the event loop`, value: (loopMs * 1000) / total, unit: 'µs' })
    ctx.report({ figure: `${what}: … of it on other threads`, value: ((cpuMs - loopMs) * 1000) / total, unit: 'µs' })
    if (ctx.store === 'sqlite' && entry === undefined) ctx.report({ figure: `${what}: bytes written to disk per event (WAL, checkpoints)`, value: written / 1024 / total, unit: 'KiB' })
    // The PostgreSQL server on this machine works for the same events, on the same two cores.
    if (databaseMs !== null) ctx.report({ figure: `${what}: database server CPU per event`, value: (databaseMs * 1000) / total, unit: 'µs' })
    ctx.report({ figure: `${what}: POST /events acks alone`, value: total / ackSeconds, unit: 'ev/s', vsBaseline: true })
    ctx.report({ figure: `${what}: POST /events ack at ${inFlight} in flight, p50`, value: percentile(acks, 50), unit: 'ms' })
    ctx.report({ figure: `${what}: POST /events ack at ${inFlight} in flight, p99`, value: percentile(acks, 99), unit: 'ms' })
  } finally {
    await service.stop()
  }
}

export const fullPhase: Phase = {
  name: 'full',
  measuresBuild: true,
  description: `POST /api/v1/events with ${IN_FLIGHT} in flight (--in-flight N) → engine → receiver (--events N)`,
  extraOptions: { warmup: { type: 'string', default: '5000' }, 'in-flight': { type: 'string', default: String(IN_FLIGHT) } },
  run: (ctx) => measureFullPath(ctx, 'full path'),
}

/**
 * The same load through the bare relay (bench/relay-process.ts): fastify in, undici out, no store
 * and nothing of ours. Its ratio to the baseline bounds what the full path's can be on this machine.
 */
export const relayPhase: Phase = {
  name: 'relay',
  description: 'the full phase\'s load through a bare fastify → undici relay (no store): the stack\'s ceiling',
  run: (ctx) => measureFullPath(ctx, 'bare relay', ['--import', 'tsx', fileURLToPath(new URL('./relay-process.ts', import.meta.url))]),
}

export const latencyPhase: Phase = {
  name: 'latency',
  measuresBuild: true,
  description: 'a steady --rate R events/s through POST /events for --seconds S: receiver-side p50/p99',
  async run (ctx) {
    const rate = numberArg(ctx, 'rate')
    const seconds = numberArg(ctx, 'seconds')
    const total = Math.round(rate * seconds)
    const { service, key } = await ready(ctx)
    try {
      const acks: number[] = []
      const sending: Array<Promise<void>> = []
      const cpu = cpuMeter(service)
      const databaseBefore = ctx.store === 'postgres' ? postgresCpuMs() : null
      const started = clock()
      for (let sent = 0; sent < total;) {
        // Send every event that is due by now; each carries the time it was due.
        const due = Math.min(total, Math.floor(((clock() - started) / 1000) * rate) + 1)
        for (; sent < due; sent++) {
          const dueAt = started + (sent * 1000) / rate
          sending.push(publish(service, key, { sent_at_ms: dueAt }).then((ms) => { acks.push(ms) }))
        }
        await sleep(Math.max(0, started + (sent * 1000) / rate - clock()))
      }
      await Promise.all(sending)
      const stats = await ctx.receiver.waitForCount(total, 600_000)
      const { cpuMs, loopMs } = cpu()
      const databaseMs = databaseBefore === null ? null : postgresCpuSince(databaseBefore)
      const latencies = stats.latencies.sort((a, b) => a - b)
      acks.sort((a, b) => a - b)
      const sustained = total / ((stats.lastAt - started) / 1000)
      ctx.report({ figure: `receiver-side latency at ${rate} ev/s, p50`, value: percentile(latencies, 50), unit: 'ms' })
      ctx.report({ figure: `receiver-side latency at ${rate} ev/s, p99`, value: percentile(latencies, 99), unit: 'ms', goal: GOALS.p99[ctx.store] })
      ctx.report({ figure: `receiver-side latency at ${rate} ev/s, max`, value: percentile(latencies, 100), unit: 'ms' })
      ctx.report({ figure: `POST /events ack at ${rate} ev/s, p50`, value: percentile(acks, 50), unit: 'ms' })
      ctx.report({ figure: `POST /events ack at ${rate} ev/s, p99`, value: percentile(acks, 99), unit: 'ms' })
      ctx.report({ figure: `sustained rate (asked ${rate} ev/s)`, value: sustained, unit: 'ev/s' })
      // At a rate that leaves the machine's cores room, what an event costs varies less with
      // other load than at full speed (a steadier figure for comparing builds with --against).
      ctx.report({ figure: `service CPU per event at ${rate} ev/s`, value: (cpuMs * 1000) / total, unit: 'µs' })
      ctx.report({ figure: `service CPU per event at ${rate} ev/s, on the event loop`, value: (loopMs * 1000) / total, unit: 'µs' })
      if (databaseMs !== null) ctx.report({ figure: `database server CPU per event at ${rate} ev/s`, value: (databaseMs * 1000) / total, unit: 'µs' })
    } finally {
      await service.stop()
    }
  },
}
