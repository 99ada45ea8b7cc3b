/**
 * The design's arrows (README "Layout"), checked: each folder of src/ imports only from the
 * folders below it, so a cycle (config → simulator → api → config) cannot come back. Type-only
 * imports count too: a layer's types are part of what it depends on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../src')

/** Each layer and what it may import; lower layers first. `errors` and `index` are src/*.ts files. */
const ALLOWED: Record<string, readonly string[]> = {
  // The receiver ships alone (@kejue/webhooks-receiver): it imports nothing of the service.
  receiver: [],
  errors: [],
  util: ['errors'],
  config: ['errors', 'util'],
  events: ['errors', 'util', 'config', 'receiver'],
  signing: ['errors', 'util', 'config', 'events'],
  store: ['errors', 'util', 'config', 'events', 'signing'],
  delivery: ['errors', 'util', 'config', 'events', 'signing', 'store'],
  observability: ['errors', 'util', 'config', 'store', 'delivery'],
  simulator: ['errors', 'util', 'config', 'events', 'signing', 'receiver', 'store', 'delivery'],
  dashboard: ['errors', 'util', 'config'],
  api: ['errors', 'util', 'config', 'events', 'signing', 'receiver', 'store', 'delivery', 'observability', 'simulator', 'dashboard'],
  cli: ['errors', 'util', 'config', 'events', 'signing', 'receiver', 'store', 'delivery', 'observability', 'simulator', 'dashboard', 'api'],
  index: ['errors', 'util', 'config', 'events', 'signing', 'receiver', 'store', 'delivery', 'observability', 'simulator', 'dashboard', 'api', 'cli'],
}

function layerOf (path: string): string {
  return relative(SRC, path).split('/')[0]?.replace(/\.(ts|js)$/, '') ?? ''
}

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : []
  })
}

/** `layer → layer (file)` for every import that crosses layers against ALLOWED. */
function violations (files: ReadonlyArray<{ path: string, text: string }>): string[] {
  const out: string[] = []
  for (const { path, text } of files) {
    const from = layerOf(path)
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = layerOf(normalize(join(dirname(path), match[1] ?? '')))
      if (to === from) continue
      const allowed = ALLOWED[from]
      if (allowed === undefined || !allowed.includes(to)) out.push(`${from} → ${to} (${relative(SRC, path)})`)
    }
  }
  return out
}

test('the layer check catches an import against the arrows', () => {
  const found = violations([
    { path: join(SRC, 'config/schema.ts'), text: "import { x } from '../simulator/outcomes.js'" },
    { path: join(SRC, 'store/store.ts'), text: "import type { Y } from '../api/app.js'" },
    { path: join(SRC, 'delivery/engine.ts'), text: "import { z } from '../store/store.js'\nimport { w } from './prepare.js'" },
  ])
  assert.deepEqual(found, ['config → simulator (config/schema.ts)', 'store → api (store/store.ts)'])
})

test('every folder of src/ imports only from the layers below it', () => {
  const files = sources(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }))
  for (const { path } of files) assert.ok(ALLOWED[layerOf(path)] !== undefined, `${relative(SRC, path)} is in a layer the test knows`)
  assert.deepEqual(violations(files), [])
})
