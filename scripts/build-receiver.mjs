#!/usr/bin/env node
// Builds packages/receiver (@kejue/webhooks-receiver) from src/receiver, its one source: ESM and
// CommonJS, each with .d.ts. `npm run build` runs it after the main build.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = join(root, 'packages/receiver')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

rmSync(join(pkg, 'dist'), { recursive: true, force: true })
for (const project of ['tsconfig.esm.json', 'tsconfig.cjs.json']) {
  const result = spawnSync(process.execPath, [tsc, '-p', join(pkg, project)], { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
// The package is "type": "module"; this marks the CommonJS half as such for Node and TypeScript.
mkdirSync(join(pkg, 'dist/cjs'), { recursive: true })
writeFileSync(join(pkg, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n')
