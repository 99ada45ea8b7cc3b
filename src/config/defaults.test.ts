import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const SRC = new URL('..', import.meta.url).pathname

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : []
  })
}

test('every default is in config/defaults.ts: no option falls back to a bare number elsewhere', () => {
  const offenders: string[] = []
  for (const file of sources(SRC)) {
    if (file.endsWith('config/defaults.ts')) continue
    readFileSync(file, 'utf8').split('\n').forEach((line, index) => {
      // `options.x ?? 5_000`: a default written where it is used instead of in DEFAULTS.
      if (/\b(options|opts)\.\w+\s*\?\?\s*-?[\d_.]+\b/.test(line)) offenders.push(`${relative(SRC, file)}:${index + 1}: ${line.trim()}`)
    })
  }
  assert.deepEqual(offenders, [])
})

test('no option falls back to a constant of its own module either', () => {
  const offenders: string[] = []
  for (const file of sources(SRC)) {
    if (file.endsWith('config/defaults.ts')) continue
    const text = readFileSync(file, 'utf8')
    // `deps.x ?? HEARTBEAT_MS` where `const HEARTBEAT_MS = 10_000`: a default hidden in a module.
    const numeric = new Set([...text.matchAll(/^(?:export )?const ([A-Z][A-Z0-9_]*) = -?[\d_.]+(?: \* [\d_.]+)*$/gm)].map((m) => m[1]))
    text.split('\n').forEach((line, index) => {
      for (const m of line.matchAll(/\?\?\s*([A-Z][A-Z0-9_]*)\b/g)) {
        if (numeric.has(m[1])) offenders.push(`${relative(SRC, file)}:${index + 1}: ${line.trim()}`)
      }
    })
  }
  assert.deepEqual(offenders, [])
})
