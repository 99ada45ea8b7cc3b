/**
 * `npm run bench`: the service against a loopback receiver in its own process, on this machine.
 *
 * Every run first measures the baseline — raw HMAC-signed undici POSTs straight to the receiver
 * with 64 in flight — then runs the chosen phases against the same receiver and prints one table
 * whose rates are also given ÷ that baseline (machine noise cancels out of the ratios).
 *
 *   npm run bench                                  # SQLite, phases full,latency,drain
 *   npm run bench -- --store postgres              # the same on a fresh PostgreSQL database
 *   npm run bench -- --phases full --events 20000
 *   npm run bench -- --phases latency --rate 1000 --seconds 10
 *   npm run bench -- --phases full --profile /tmp/prof   # the service under node --cpu-prof
 *   npm run bench -- --phases full,relay,latency --repeat 3   # three runs, then medians and spreads
 *   npm run bench -- --phases full --repeat 5 --against /tmp/base/dist/cli/main.js   # A/B in interleaved pairs
 *
 *   npm run bench -- --routing                     # ingest with 1 vs 10,000 webhooks in the workspace (bench/routing.ts)
 *   npm run bench -- --isolation                   # a healthy webhook beside dead or hostile ones (bench/isolation.ts)
 *   npm run bench -- --backlog 1000000             # accept and drain beside 1M deliveries pending to dead endpoints (bench/backlog.ts)
 *
 * Options: --phases a,b (full,latency,drain), --store sqlite|postgres, --events N (10000),
 *          --rate R (1000), --seconds S (5), --profile DIR, --repeat N (1), --against PATH, plus
 *          each phase's own (see PHASES).
 * PostgreSQL: KEJUE_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) is the
 * server; each phase gets a database of its own, dropped at the end.
 * docs/performance.md has the figures and what they mean.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { samplePayload } from '../src/events/samples.js'
import { signHeaders } from '../src/signing/signer.js'
import { newId } from '../src/util/ids.js'
import { USER_AGENT } from '../src/util/version.js'
import { drainPhase } from './engine.js'
import { fullPhase, latencyPhase, relayPhase } from './full.js'
import { digitsFor } from './phase.js'
import type { BenchContext, Phase, ResultRow, StoreKind, StoreLocation } from './phase.js'
import { startReceiver } from './receiver.js'
import { runIsolation } from './isolation.js'
import { runRoutingBench } from './routing.js'
import { runBacklogPhase } from './backlog.js'
import { compareBuilds, summarize } from './summary.js'
import type { RunFigure } from './summary.js'
import { createHttpClient } from '../src/delivery/http-client.js'
import { adminQuery, TEST_DATABASE_URL } from '../test/helpers/postgres.js'

/** Every phase run.ts knows; `--phases` picks among them, in this order. */
const PHASES: Phase[] = [fullPhase, relayPhase, latencyPhase, drainPhase]
const DEFAULT_PHASES = 'full,latency,drain'

const { values: args } = parseArgs({
  options: {
    phases: { type: 'string', default: DEFAULT_PHASES },
    store: { type: 'string', default: 'sqlite' },
    events: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    profile: { type: 'string' },
    // Instead of the phases: bench/isolation.ts, a healthy webhook beside dead or hostile ones.
    isolation: { type: 'boolean', default: false },
    // Instead of the phases: bench/routing.ts, ingest with 1 vs 10,000 webhooks in the workspace.
    routing: { type: 'boolean', default: false },
    // Instead of the phases: bench/backlog.ts with N deliveries pending to dead endpoints.
    backlog: { type: 'string', default: '0' },
    // The phases N times over, each run with its own baseline; then a table of medians and spreads.
    repeat: { type: 'string', default: '1' },
    // Another build's dist/cli/main.js: the phases that measure a build run for it too, in turns.
    against: { type: 'string' },
    ...Object.assign({}, ...PHASES.map((p) => p.extraOptions ?? {})) as Record<string, { type: 'string' | 'boolean', default?: string | boolean }>,
  },
})

const IN_FLIGHT = 64
/** How the other build's figures are named with --against. */
const AGAINST_LABEL = '[against] '
const SECRET = 'whsec_bench'

async function baseline (url: string, total: number): Promise<number> {
  const agent = new Agent({ connections: IN_FLIGHT, pipelining: 1 })
  const body = JSON.stringify({ event: 'call.ended', event_id: newId('evt'), workspace_id: 'ws_bench', timestamp: new Date().toISOString(), data: samplePayload('call.ended'), metadata: {} })
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < total) {
      next++
      const res = await request(url, {
        method: 'POST',
        dispatcher: agent,
        body,
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signHeaders('hmac_sha256', SECRET, body, Date.now()) },
      })
      await res.body.dump()
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await agent.close()
  return total / seconds
}

/** A PostgreSQL database of its own (a leftover of the same name is dropped first) and how to drop it. */
async function createDatabase (name: string): Promise<{ url: string, drop: () => Promise<void> }> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await adminQuery(`CREATE DATABASE ${name}`)
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: async () => { await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) } }
}

function format (row: ResultRow, base: number): string {
  const value = row.value.toFixed(digitsFor(row.unit))
  const ratio = row.vsBaseline === true ? `${(row.value / base).toFixed(2)}×` : ''
  return `| ${row.figure} | ${value} ${row.unit} | ${ratio} | ${row.goal ?? ''} |`
}

async function main (): Promise<void> {
  if (args.store !== 'sqlite' && args.store !== 'postgres') throw new Error('--store must be sqlite or postgres')
  const store: StoreKind = args.store
  const repeat = Number(args.repeat)
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a whole number ≥ 1')
  const against = args.against === undefined ? undefined : resolve(args.against)
  if (against !== undefined && !existsSync(against)) throw new Error(`--against: no such file ${against} (a built dist/cli/main.js)`)
  const chosen = args.phases.split(',').map((name) => {
    const phase = PHASES.find((p) => p.name === name.trim())
    if (phase === undefined) throw new Error(`unknown phase ${name}; known: ${PHASES.map((p) => p.name).join(', ')}`)
    return phase
  })
  const receiver = await startReceiver()
  const receiverUrl = `http://127.0.0.1:${receiver.port}/hook`
  const cleanups: Array<() => Promise<void>> = []
  let databases = 0

  async function freshStore (): Promise<StoreLocation> {
    const dataDir = mkdtempSync(join(tmpdir(), 'kejue-bench-'))
    cleanups.push(async () => { rmSync(dataDir, { recursive: true, force: true }) })
    if (store === 'sqlite') return { dataDir }
    const database = await createDatabase(`kejue_bench_${process.pid}_${databases++}`)
    cleanups.push(database.drop)
    return { dataDir, databaseUrl: database.url }
  }

  try {
    const cpu = cpus()[0]?.model ?? 'unknown CPU'
    console.log(`kejue-webhooks bench — store ${store}, phases ${chosen.map((p) => p.name).join(',')}; ${cpus().length} × ${cpu}, Node ${process.version}`)
    await baseline(receiverUrl, 2_000)
    const baselineRequests = Math.max(5_000, Number(args.events))
    const runs: RunFigure[][] = []
    for (let run = 1; run <= repeat; run++) {
      if (repeat > 1) console.log(`\nrun ${run} of ${repeat}`)
      const rows: ResultRow[] = []
      const before = await baseline(receiverUrl, baselineRequests)
      console.log(`baseline: raw signed undici POSTs, ${IN_FLIGHT} in flight: ${before.toFixed(0)} req/s`)
      const ctx: BenchContext = {
        store,
        receiver,
        receiverUrl,
        baseline: before,
        args,
        freshStore,
        report (row) {
          rows.push(row)
          console.log(`  ${format(row, before)}`)
        },
        log (line) { console.log(line) },
      }
      for (const phase of chosen) {
        // With --against, a phase that measures a build runs for both, in turns (this build first
        // in odd runs, the other in even ones), so that the machine's drift falls on both alike.
        const builds = against === undefined || phase.measuresBuild !== true ? [undefined] : run % 2 === 1 ? [undefined, against] : [against, undefined]
        for (const serve of builds) {
          const label = serve === undefined ? '' : AGAINST_LABEL
          console.log(`${label}${phase.name}: ${phase.description}`)
          await phase.run({ ...ctx, serve, report: (row) => { ctx.report({ ...row, figure: label + row.figure }) } })
        }
      }
      // The machine's speed drifts within a run (shared cores): the baseline is measured again after
      // the phases, and the table's ratios are against the mean of the two.
      const after = await baseline(receiverUrl, baselineRequests)
      const base = (before + after) / 2
      console.log(`\n| figure (${store}) | value | ÷ baseline | goal |\n|---|---|---|---|`)
      console.log(`| baseline: raw signed POSTs, ${IN_FLIGHT} in flight (before ${before.toFixed(0)}, after ${after.toFixed(0)}) | ${base.toFixed(0)} req/s | 1.00× | |`)
      for (const row of rows) console.log(format(row, base))
      runs.push([
        { figure: `baseline: raw signed POSTs, ${IN_FLIGHT} in flight`, value: base, unit: 'req/s' },
        ...rows.map((row) => ({ figure: row.figure, value: row.value, unit: row.unit, ratio: row.vsBaseline === true ? row.value / base : undefined, goal: row.goal })),
      ])
    }
    if (repeat > 1) console.log(`\n${summarize(runs, `figure (${store})`).join('\n')}`)
    if (against !== undefined) console.log(`\n${compareBuilds(runs, AGAINST_LABEL).join('\n')}`)
  } finally {
    receiver.close()
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => { console.error(err) })
  }
}

/** `--backlog N`: an empty queue against N deliveries pending to dead endpoints, in turns. */
async function backlog (): Promise<void> {
  const receiver = await startReceiver()
  const dataDir = mkdtempSync(join(tmpdir(), 'kejue-bench-'))
  const database = args.store === 'postgres' ? await createDatabase(`kejue_bench_${process.pid}_backlog`) : undefined
  const databaseUrl = database?.url
  const sender = createHttpClient({ allowPrivateNetworks: true, userAgent: USER_AGENT })
  try {
    await runBacklogPhase({ dataDir, databaseUrl, sender, receiverUrl: `http://127.0.0.1:${receiver.port}/hook`, receiver, backlog: Number(args.backlog), events: Math.min(Number(args.events), 5_000) })
  } finally {
    await sender.close()
    receiver.close()
    rmSync(dataDir, { recursive: true, force: true })
    await database?.drop()
  }
}

if (args.routing) await runRoutingBench(process.argv.slice(2).filter((a) => a !== '--routing'))
else if (args.isolation) await runIsolation({ store: args.store === 'postgres' ? 'postgres' : 'sqlite' })
else if (Number(args.backlog) > 0) await backlog()
else await main()
