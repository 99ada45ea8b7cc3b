/**
 * The service under test as an operator runs it: the built CLI's `serve` in its own process
 * (role all by default: API and delivery engine), on 127.0.0.1 and a free port, and a small API
 * client for it. `profileDir` runs it under `node --cpu-prof` (read the profile with
 * `node bench/profile-summary.mjs <file.cpuprofile>`).
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { processStat } from './phase.js'
import type { StoreLocation } from './phase.js'

// KEJUE_BENCH_SERVE=/other/checkout/dist/cli/main.js measures another build (e.g. main's) in the same run conditions.
const MAIN = process.env.KEJUE_BENCH_SERVE ?? fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
export const ADMIN_KEY = 'ka_bench_admin_key_0123456789'

export interface ServiceOptions {
  location: StoreLocation
  role?: 'all' | 'api' | 'worker'
  /** Extra environment (KEJUE_… settings). */
  env?: Record<string, string>
  /** Write a V8 CPU profile of the service here when it exits. */
  profileDir?: string
  /** Connections the API client keeps open (the requests in flight it can have). */
  connections?: number
  /** A command the service runs under (e.g. valgrind and its options: bench/instructions.ts). */
  wrapper?: readonly string[]
  /** The built CLI to start (a dist/cli/main.js); this checkout's (or KEJUE_BENCH_SERVE) by default. */
  serve?: string
  /** Node's arguments instead of the built CLI's `serve` (the bare relay: bench/relay-process.ts). */
  entry?: readonly string[]
}

export interface ApiResponse { status: number, body: unknown }

export interface Service {
  url: string
  pid: number
  /** POST/GET/… with a key; the body as parsed JSON (or null). */
  call (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, key: string, body?: unknown): Promise<ApiResponse>
  /** A new workspace and its key, through the admin API. */
  createWorkspace (): Promise<{ workspaceId: string, key: string }>
  /** A webhook on all events, through the API; its id. */
  createWebhook (key: string, url: string, secret: string, extra?: Record<string, unknown>): Promise<string>
  /** CPU time (user + system, ms) the service process has used so far (Linux /proc). */
  cpuMs (): number
  /** CPU time (ms) of its main thread alone, the event loop (API, store, engine). */
  eventLoopCpuMs (): number
  /** Bytes the service process has caused to be written to storage so far (/proc/<pid>/io write_bytes). */
  writtenBytes (): number
  /** SIGTERM, and wait for the exit (and the profile to be written). */
  stop (): Promise<void>
}

export async function startService (options: ServiceOptions): Promise<Service> {
  const execArgv = options.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.profileDir]
  const entry = options.entry ?? [options.serve ?? MAIN, 'serve', '--port', '0', '--role', options.role ?? 'all']
  const command = [...options.wrapper ?? [], process.execPath, ...execArgv, ...entry]
  const child: ChildProcess = spawn(command[0] ?? process.execPath, command.slice(1), {
    env: {
      ...process.env,
      KEJUE_DATA_DIR: options.location.dataDir,
      ...(options.location.databaseUrl === undefined ? {} : { KEJUE_DATABASE_URL: options.location.databaseUrl }),
      KEJUE_ADMIN_KEY: ADMIN_KEY,
      KEJUE_ALLOW_PRIVATE_NETWORKS: 'true',
      // The default level (info), as an operator runs it; its lines go to /dev/null.
      ...options.env,
    },
    stdio: ['ignore', 'pipe', process.env.KEJUE_BENCH_SERVICE_STDERR === 'inherit' ? 'inherit' : 'ignore'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const onData = (chunk: Buffer): void => {
      out += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match?.[1] !== undefined) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => { reject(new Error(`serve exited with ${String(code)} before listening: ${out}`)) })
  })
  const pool = new Pool(url, { connections: options.connections ?? 64, pipelining: 1 })

  async function call (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, key: string, body?: unknown): Promise<ApiResponse> {
    const res = await pool.request({
      method,
      path,
      headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.body.text()
    return { status: res.statusCode, body: text === '' ? null : JSON.parse(text) as unknown }
  }

  function expect (res: ApiResponse, status: number, what: string): Record<string, unknown> {
    if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`)
    return res.body as Record<string, unknown>
  }

  return {
    url,
    pid: child.pid ?? 0,
    call,
    async createWorkspace () {
      const body = expect(await call('POST', '/api/v1/workspaces', ADMIN_KEY, { name: 'bench' }), 201, 'create workspace')
      return { workspaceId: String(body.id), key: String(body.api_key) }
    },
    async createWebhook (key, hookUrl, secret, extra = {}) {
      const body = expect(await call('POST', '/api/v1/webhooks', key, { url: hookUrl, events: ['*'], secret, ...extra }), 201, 'create webhook')
      return String(body.id)
    },
    cpuMs () {
      return processStat(child.pid ?? 0).cpuMs
    },
    eventLoopCpuMs () {
      return processStat(child.pid ?? 0, child.pid ?? 0).cpuMs
    },
    writtenBytes () {
      const io = readFileSync(`/proc/${child.pid ?? 0}/io`, 'utf8')
      return Number(/^write_bytes: (\d+)$/m.exec(io)?.[1] ?? Number.NaN)
    },
    async stop () {
      await pool.close()
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}
