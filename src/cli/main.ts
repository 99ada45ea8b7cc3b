#!/usr/bin/env node
/**
 * The `kejue-webhooks` command. Each command lives in commands/ and registers itself here;
 * to add one, write commands/<name>.ts exporting `register<Name>(program)` and list it below.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { Command, CommanderError } from 'commander'
import { VERSION } from '../util/version.js'
import { registerMigrate } from './commands/migrate.js'
import { registerServe } from './commands/serve.js'
import { registerListen } from './commands/listen.js'
import { registerTrigger } from './commands/trigger.js'
import { registerDemo } from './commands/demo.js'
import { registerReencrypt } from './commands/reencrypt.js'

const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerServe,
  registerMigrate,
  registerListen,
  registerTrigger,
  registerDemo,
  registerReencrypt,
]

const program = new Command()
  .name('kejue-webhooks')
  .description('Signed, retried, logged webhooks for the Kejue voice-AI calling platform')
  .version(VERSION)
  .exitOverride()
for (const register of COMMANDS) register(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
    process.exit(ok ? 0 : 2)
  }
  process.stderr.write(`kejue-webhooks: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
}
