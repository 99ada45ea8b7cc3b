/**
 * `kejue-webhooks listen`, two ways:
 * - `--forward-to <url>`: like `stripe listen`, a streaming session with the service that forwards
 *   every delivery to a local app (listen-forward.ts). Nothing else to set up.
 * - without it: a local webhook receiver that verifies every delivery with the receiver SDK and
 *   prints one line per delivery (src/simulator/listener.ts); point a webhook at it, with
 *   KEJUE_ALLOW_PRIVATE_NETWORKS=true on the service.
 *
 * @example kejue-webhooks listen --forward-to http://localhost:3000/webhooks/kejue --workspace-key kw_…
 * @example kejue-webhooks listen --port 4000 --secret whsec_… --method hmac_sha256
 */
import type { Command } from 'commander'
import { DEFAULTS } from '../../config/defaults.js'
import { EVENT_TYPES } from '../../events/event-types.js'
import { isReceiverSigningMethod } from '../../receiver/index.js'
import { createListener } from '../../simulator/listener.js'
import { runForward } from './listen-forward.js'

export interface ListenFlags {
  port: string
  host: string
  secret?: string
  method: string
  status: string
  json?: boolean
  forwardTo?: string
  url: string
  workspaceKey?: string
  events: string
}

function usage (message: string): void {
  process.stderr.write(`kejue-webhooks listen: ${message}\n`)
  process.exitCode = 2
}

function isHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

async function runForwardMode (flags: ListenFlags & { forwardTo: string }): Promise<void> {
  if (!isHttpUrl(flags.forwardTo)) return usage('--forward-to must be an http(s) URL, e.g. http://localhost:3000/webhooks/kejue')
  if (!isHttpUrl(flags.url)) return usage('--url must be the service\'s http(s) URL')
  const key = flags.workspaceKey ?? process.env.KEJUE_API_KEY
  if (key === undefined || key === '') return usage('a workspace API key is needed: --workspace-key kw_… or KEJUE_API_KEY')
  const events = flags.events.split(',').map((e) => e.trim()).filter((e) => e !== '')
  const unknown = events.filter((e) => e !== '*' && !(EVENT_TYPES as readonly string[]).includes(e))
  if (events.length === 0 || unknown.length > 0) return usage(`--events takes event types or *, comma-separated; unknown: ${unknown.join(', ') || '(none given)'}`)
  const controller = new AbortController()
  const stop = (): void => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  process.exitCode = await runForward({ forwardTo: flags.forwardTo, serviceUrl: flags.url, workspaceKey: key, events }, {
    out: (line) => { process.stdout.write(`${line}\n`) },
    err: (line) => { process.stderr.write(`${line}\n`) },
    signal: controller.signal,
  })
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
}

export async function runListen (flags: ListenFlags): Promise<void> {
  if (flags.forwardTo !== undefined) return runForwardMode({ ...flags, forwardTo: flags.forwardTo })
  const port = Number(flags.port)
  const status = Number(flags.status)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return usage('--port must be 0–65535')
  if (!Number.isInteger(status) || status < 100 || status > 599) return usage('--status must be an HTTP status, 100–599')
  if (!isReceiverSigningMethod(flags.method)) return usage('--method must be hmac_sha256, hmac_sha1, bearer, basic_auth or none')
  const secret = flags.secret ?? process.env.KEJUE_WEBHOOK_SECRET ?? null
  const listener = createListener({ port, host: flags.host, secret, method: flags.method, status, json: flags.json === true })
  let url: string
  try {
    url = (await listener.start()).url
  } catch (err) {
    process.stderr.write(`kejue-webhooks listen: cannot listen on ${flags.host}:${port}: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
    return
  }
  const checking = flags.method === 'none'
    ? 'accepting unsigned deliveries (method none)'
    : secret === null
      ? `no --secret: deliveries are shown but cannot be verified (${flags.method})`
      : `verifying ${flags.method} signatures`
  process.stderr.write(`Listening on ${url} — ${checking}; answering ${status}. Ctrl-C to stop.\n`)

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void listener.close().then(resolve)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  const received = listener.received
  const rejected = received.filter((d) => !d.verified).length
  process.stderr.write(`\n${received.length} deliveries received, ${received.length - rejected} verified, ${rejected} not verified.\n`)
}

export function registerListen (program: Command): void {
  program
    .command('listen')
    .description('forward deliveries to a local app (--forward-to), or run a local receiver that verifies and prints them')
    .option('--forward-to <url>', 'forward every delivery of a new session to this local URL (like `stripe listen`)')
    .option('--url <url>', 'with --forward-to: the service', process.env.KEJUE_URL ?? 'http://127.0.0.1:8080')
    .option('--workspace-key <key>', 'with --forward-to: workspace API key (or KEJUE_API_KEY)')
    .option('--events <types>', 'with --forward-to: event types to receive, comma-separated', '*')
    .option('--port <n>', 'port to listen on (0 picks a free one)', String(DEFAULTS.simulator.listenerPort))
    .option('--host <addr>', 'address to bind', DEFAULTS.simulator.listenerHost)
    .option('--secret <secret>', 'the webhook\'s secret (or KEJUE_WEBHOOK_SECRET)')
    .option('--method <method>', 'signing method: hmac_sha256, hmac_sha1, bearer, basic_auth, none', DEFAULTS.signing.method)
    .option('--status <code>', 'status to answer verified deliveries with (500 rehearses failures)', String(DEFAULTS.simulator.listenerStatus))
    .option('--json', 'print one JSON object per delivery instead of a line')
    .action(async (flags: ListenFlags) => {
      await runListen(flags)
    })
}
