import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Command } from 'commander'
import type { Option } from 'commander'
import { registerServe } from '../../src/cli/commands/serve.js'
import { SETTINGS } from '../../src/config/schema.js'

test('every serve flag comes from SETTINGS and reaches resolveConfig under the setting\'s own name', () => {
  const program = new Command()
  registerServe(program)
  const serve = program.commands.find((c) => c.name() === 'serve')
  assert.ok(serve)
  const withFlags = SETTINGS.filter((s) => s.flagSyntax !== undefined)
  assert.ok(withFlags.length >= 5)
  for (const setting of withFlags) {
    const long = setting.flagSyntax?.split(' ')[0]
    const option: Option | undefined = serve.options.find((o) => o.long === long)
    assert.ok(option, `serve has ${long}`)
    // commander stores the value under attributeName(); resolveConfig reads it as setting.flag.
    assert.equal(option.attributeName(), setting.flag, `${long} is read as ${setting.flag}`)
    assert.match(option.description, new RegExp(setting.env[0] ?? '^$'), `${long}'s help names ${setting.env[0]}`)
  }
  assert.equal(serve.options.length, withFlags.length, 'and no flag is typed by hand beside them')
})
