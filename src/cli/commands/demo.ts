/**
 * `kejue-webhooks demo` (also `npm run demo`): service, simulator, receiver and a campaign in one
 * command with nothing else running; exits 0 only when every delivery verified (docs/sandbox.md).
 */
import type { Command } from 'commander'
import { runDemo } from '../demo/demo.js'

export interface DemoFlags {
  contacts: string
  speed: string
  seed?: string
  flakyRate: string
}

export async function runDemoCommand (flags: DemoFlags): Promise<void> {
  const contacts = Number(flags.contacts)
  const speed = Number(flags.speed)
  const flakyRate = Number(flags.flakyRate)
  const seed = flags.seed === undefined ? null : Number(flags.seed)
  const problems = [
    !(Number.isInteger(contacts) && contacts >= 1 && contacts <= 10_000) && '--contacts must be 1–10000',
    !(speed > 0 && speed <= 1_000_000) && '--speed must be above 0, at most 1000000',
    !(flakyRate >= 0 && flakyRate <= 1) && '--flaky-rate must be 0–1',
    seed !== null && !(Number.isInteger(seed) && seed >= 0 && seed <= 4_294_967_295) && '--seed must be an integer 0–4294967295',
  ].filter((p): p is string => typeof p === 'string')
  if (problems.length > 0) {
    process.stderr.write(`kejue-webhooks demo: ${problems.join('; ')}\n`)
    process.exitCode = 2
    return
  }
  process.exitCode = await runDemo({ contacts, speed, seed, flakyRate }, {
    write: (text) => { process.stdout.write(text) },
    tty: process.stdout.isTTY === true,
  })
}

export function registerDemo (program: Command): void {
  program
    .command('demo')
    .description('run the service, a simulated campaign and a verifying receiver in one go, then print a summary')
    .option('--contacts <n>', 'contacts in the campaign', '50')
    .option('--speed <x>', 'how many times faster than real time the calls run', '1000')
    .option('--seed <n>', 'fix the random outcomes')
    .option('--flaky-rate <share>', 'share of first attempts the receiver fails with 503, to show retries', '0.1')
    .action(async (flags: DemoFlags) => {
      await runDemoCommand(flags)
    })
}
