/**
 * `kejue-webhooks listen`: a local webhook receiver that verifies every delivery with the
 * receiver SDK and prints one line per delivery (see src/simulator/listener.ts). Point a webhook
 * at it (with KEJUE_ALLOW_PRIVATE_NETWORKS=true on the service) and watch events arrive.
 *
 * @example kejue-webhooks listen --port 4000 --secret whsec_… --method hmac_sha256
 */
import type { Command } from 'commander'
import { isReceiverSigningMethod } from '../../receiver/index.js'
import { createListener } from '../../simulator/listener.js'

export interface ListenFlags {
  port: string
  host: string
  secret?: string
  method: string
  status: string
  json?: boolean
}

function usage (message: string): void {
  process.stderr.write(`kejue-webhooks listen: ${message}\n`)
  process.exitCode = 2
}

export async function runListen (flags: ListenFlags): Promise<void> {
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
    .description('run a local webhook receiver that verifies and prints every delivery')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '4000')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--secret <secret>', 'the webhook\'s secret (or KEJUE_WEBHOOK_SECRET)')
    .option('--method <method>', 'signing method: hmac_sha256, hmac_sha1, bearer, basic_auth, none', 'hmac_sha256')
    .option('--status <code>', 'status to answer verified deliveries with (500 rehearses failures)', '200')
    .option('--json', 'print one JSON object per delivery instead of a line')
    .action(async (flags: ListenFlags) => {
      await runListen(flags)
    })
}
