/**
 * What a bench phase is and what it gets from run.ts. A phase is a self-contained module
 * (bench/full.ts, bench/engine.ts, …) that measures one thing against the run's shared loopback
 * receiver and raw signed-POST baseline, and reports figures as rows of the final table.
 *
 * To add one: export a `Phase` from its own file, add it to PHASES in run.ts. It gets
 * `--phases name` for free; options of its own go in `extraOptions` (parsed by run.ts).
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Receiver } from './receiver.js'

export type StoreKind = 'sqlite' | 'postgres'

export interface ResultRow {
  /** e.g. "full path, POST /events → receiver". */
  figure: string
  value: number
  unit: string
  /** Shown as "= 0.34× baseline" when set (value ÷ the run's raw signed-POST rate). */
  vsBaseline?: boolean
  /** Free text, e.g. "≥ 0.35×" or "≤ 20 ms". */
  goal?: string
}

export interface BenchContext {
  store: StoreKind
  /** The loopback receiver process every phase delivers to (reset it before measuring). */
  receiver: Receiver
  /** POST here to reach the receiver (path /hook). */
  receiverUrl: string
  /** The raw signed-POST rate (req/s) measured at the start of this run. */
  baseline: number
  /** Parsed command-line options (run.ts's and every phase's `extraOptions`). */
  args: Readonly<Record<string, string | boolean | undefined>>
  /** A fresh store location: a temp dir for SQLite, a new database for PostgreSQL; cleaned up after the run. */
  freshStore (): Promise<StoreLocation>
  report (row: ResultRow): void
  /** A line of progress or explanation, printed at once. */
  log (line: string): void
  /** The `serve` build to start (a dist/cli/main.js); undefined: this checkout's (or KEJUE_BENCH_SERVE). */
  serve?: string
}

export interface StoreLocation {
  dataDir: string
  /** Set for PostgreSQL. */
  databaseUrl?: string
}

export interface Phase {
  name: string
  description: string
  extraOptions?: Record<string, { type: 'string' | 'boolean', default?: string | boolean }>
  /** It measures the `serve` build it starts (ctx.serve): `--against` runs it once per build. */
  measuresBuild?: boolean
  run (ctx: BenchContext): Promise<void>
}

export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}

/** Decimals a figure is printed with: tenths for milliseconds and KiB, whole numbers otherwise. */
export function digitsFor (unit: string): number {
  return unit === 'ms' || unit === 'KiB' ? 1 : 0
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function numberArg (ctx: BenchContext, name: string): number {
  const value = Number(ctx.args[name])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

/**
 * CPU time (user + system, ms) used so far by the processes named `postgres` on this machine, by
 * pid: the database server's share of a phase when it runs here (the bench's own PostgreSQL).
 * Backends that exit between two readings take their time with them; the service's pool keeps
 * its connections for a phase, so those are few.
 */
export function postgresCpuMs (): Map<number, number> {
  const out = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const { name, cpuMs } = processStat(Number(entry))
      if (name === 'postgres') out.set(Number(entry), cpuMs)
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out
}

/**
 * A process's name and CPU time so far (user + system, ms) from /proc/<pid>/stat (Linux); with
 * `tid`, one of its threads' (/proc/<pid>/task/<tid>/stat; a process's main thread has tid = pid).
 */
export function processStat (pid: number, tid?: number): { name: string, cpuMs: number } {
  // Fields 14 and 15 (utime, stime) in clock ticks of 10 ms; the name (field 2) may hold spaces,
  // so count from the closing parenthesis.
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 }
}

/** What `postgresCpuMs` grew by from `before` (pids new since then count from zero). */
export function postgresCpuSince (before: ReadonlyMap<number, number>): number {
  let total = 0
  for (const [pid, ms] of postgresCpuMs()) total += ms - (before.get(pid) ?? 0)
  return total
}
