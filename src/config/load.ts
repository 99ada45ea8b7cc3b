/**
 * resolveConfig: defaults → env → CLI flags, each value parsed and checked once at boot. A bad
 * value is a ConfigError naming the setting and where its value came from, e.g.
 * `KEJUE_PORT (env) must be an integer 0–65535, got "abc"`.
 */
import { ConfigError } from '../errors.js'
import { SETTINGS, SettingValueError } from './schema.js'
import type { RawValue, ResolvedConfig, SettingDefinition } from './schema.js'

export interface ConfigSources {
  /** Usually `process.env`. */
  env?: Readonly<Record<string, string | undefined>>
  /** Commander's `program.opts()`: camelCase option names. Undefined means "not given". */
  flags?: Readonly<Record<string, string | boolean | undefined>>
}

function rawValue (setting: SettingDefinition, sources: ConfigSources): RawValue | null {
  const flag = setting.flag === undefined ? undefined : sources.flags?.[setting.flag]
  if (flag !== undefined) return { text: flag, origin: `${(setting.flagSyntax ?? setting.flag ?? '').split(' ')[0]} (flag)` }
  for (const name of setting.env) {
    const text = sources.env?.[name]
    if (text !== undefined) return { text, origin: `${name} (env)` }
  }
  return null
}

function assign (target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    const next = node[part]
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>
    else {
      const created: Record<string, unknown> = {}
      node[part] = created
      node = created
    }
  }
  node[parts[parts.length - 1] ?? key] = value
}

/**
 * @example resolveConfig({ env: process.env, flags: program.opts() }).port // 8080 by default
 */
export function resolveConfig (sources: ConfigSources = {}): ResolvedConfig {
  const out: Record<string, unknown> = {}
  const problems: string[] = []
  for (const setting of SETTINGS) {
    const raw = rawValue(setting, sources)
    if (raw === null) {
      assign(out, setting.key, setting.defaultValue)
      continue
    }
    try {
      assign(out, setting.key, setting.parse(raw))
    } catch (err) {
      if (!(err instanceof SettingValueError)) throw err
      problems.push(err.message)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '))
  return out as unknown as ResolvedConfig
}
