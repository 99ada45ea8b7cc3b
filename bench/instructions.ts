/**
 * Instructions per event, counted by valgrind's callgrind: a figure that does not move with the
 * machine's speed, for telling whether a change of a few per cent helps. The timed bench cannot:
 * on this shared 2-core machine the service's CPU per event spreads 470–630 µs between runs of
 * one build (docs/performance.md, "Measuring small changes").
 *
 *   node --import tsx bench/instructions.ts [--events N] [--warmup N] [--in-flight N]
 *   KEJUE_BENCH_SERVE=/other/checkout/dist/cli/main.js … counts another build.
 *
 * The service (`serve`, role all, SQLite in a temporary directory) runs under callgrind with
 * instrumentation on from the start; after the warm-up the counters are zeroed
 * (callgrind_control -z), the events are POSTed through the API and delivered to the loopback
 * receiver, and the counters are dumped (callgrind_control -d). What is counted is the user-space
 * instructions of the service's threads for those events (HTTP in, store, sender, HTTP out), not
 * the kernel's work nor waiting, with V8's background compiler and GC threads apart; callgrind
 * runs one thread at a time, so the batches the service forms differ from a real run's and only
 * the comparison of two builds means much. A run takes a few minutes (the service is ~50× slower
 * under valgrind).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { post } from './full.js'
import { startReceiver } from './receiver.js'
import { startService } from './service.js'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '3000' },
    'in-flight': { type: 'string', default: '16' },
  },
})

interface Counted { threads: number, platform: number }

/**
 * Instructions of the first dump callgrind_control wrote for `pid` in `dir` (one file per thread,
 * --separate-threads): the threads that run JavaScript and libuv's pool (`threads`), and V8's
 * platform threads (`platform`: optimizing compiler, GC helpers), told apart by their entry
 * function. Under valgrind V8 compiles far longer than in a real run, and how much varies from
 * run to run (±7 % of the total in five runs of one build), so it is reported apart.
 */
function dumpedInstructions (dir: string, pid: number): Counted {
  const files = readdirSync(dir).filter((name) => name.startsWith(`callgrind.out.${pid}.1-`))
  if (files.length === 0) throw new Error('callgrind wrote no dump')
  const counted: Counted = { threads: 0, platform: 0 }
  for (const name of files) {
    const text = readFileSync(join(dir, name), 'utf8')
    const total = Number(/^totals: (\d+)/m.exec(text)?.[1] ?? 0)
    if (text.includes('PlatformWorkerThread')) counted.platform += total
    else counted.threads += total
  }
  return counted
}

async function main (): Promise<void> {
  const events = Number(args.events)
  const warmup = Number(args.warmup)
  const inFlight = Number(args['in-flight'])
  const dataDir = mkdtempSync(join(tmpdir(), 'kejue-instructions-'))
  const dumpDir = mkdtempSync(join(tmpdir(), 'kejue-callgrind-'))
  const receiver = await startReceiver()
  const service = await startService({
    location: { dataDir },
    connections: inFlight,
    // Threads of their own: callgrind counts every one (sender, checkpointer, GC helpers).
    wrapper: ['valgrind', '--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${join(dumpDir, 'callgrind.out.%p')}`, '--dump-line=no', '--compress-strings=no'],
  })
  try {
    const { key } = await service.createWorkspace()
    await service.createWebhook(key, `http://127.0.0.1:${receiver.port}/hook`, 'whsec_bench')
    await post(service, key, warmup, inFlight)
    await receiver.waitForCount(warmup, 600_000)
    await receiver.reset()
    execFileSync('callgrind_control', ['-z', String(service.pid)], { stdio: 'ignore' })
    await post(service, key, events, inFlight)
    await receiver.waitForCount(events, 600_000)
    execFileSync('callgrind_control', ['-d', String(service.pid)], { stdio: 'ignore' })
    const counted = dumpedInstructions(dumpDir, service.pid)
    const perEvent = (n: number): string => Math.round(n / events).toLocaleString('en-US')
    console.log(`${events} events through POST /api/v1/events → receiver, ${inFlight} in flight, after ${warmup} to warm up`)
    console.log(`instructions per event, event loop and sender threads: ${perEvent(counted.threads)}`)
    console.log(`instructions per event, V8's compiler and GC threads: ${perEvent(counted.platform)}`)
  } finally {
    await service.stop()
    receiver.close()
    rmSync(dataDir, { recursive: true, force: true })
    if (process.env.KEJUE_KEEP_CALLGRIND === undefined) rmSync(dumpDir, { recursive: true, force: true })
    else console.log(`callgrind dumps kept in ${dumpDir}`)
  }
}

await main()
