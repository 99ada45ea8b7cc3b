import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

// `kejue-webhooks/receiver` must run with nothing but Node: every runtime import of
// src/receiver/** is a `node:` built-in or another file of src/receiver that obeys the same rule.
// `import type` is erased and allowed. The receiver must ship alone as @kejue/webhooks-receiver (docs/receiving.md).

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const RECEIVER_DIR = join(ROOT, 'src/receiver')
const DIST_DIR = join(ROOT, 'dist/receiver')

/** Module specifiers that survive compilation: everything but `import type` / `export type`. */
function runtimeSpecifiers (fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: string[] = []
  const literal = (node: ts.Node | undefined): string => (node !== undefined && ts.isStringLiteralLike(node) ? node.text : '<computed>')
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      // `import { type X } from 'y'` is kept as `import {} from 'y'` under verbatimModuleSyntax,
      // so only a whole-declaration `import type` counts as erased.
      if (node.importClause?.phaseModifier !== ts.SyntaxKind.TypeKeyword) found.push(literal(node.moduleSpecifier))
    } else if (ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier !== undefined && !node.isTypeOnly) found.push(literal(node.moduleSpecifier))
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (!node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference)) found.push(literal(node.moduleReference.expression))
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        found.push(literal(node.arguments[0]))
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

/** Every violation reachable from `entry`, following relative imports inside `allowedDir`. */
function violations (entry: string, allowedDir: string, read: (path: string) => string): string[] {
  const bad: string[] = []
  const seen = new Set<string>()
  const walk = (path: string): void => {
    if (seen.has(path)) return
    seen.add(path)
    for (const specifier of runtimeSpecifiers(path, read(path))) {
      if (specifier.startsWith('node:')) continue
      const where = relative(ROOT, path)
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
        bad.push(`${where}: ${specifier}`)
        continue
      }
      const target = resolve(dirname(path), specifier.replace(/\.js$/, '.ts'))
      if (!target.startsWith(`${allowedDir}/`)) bad.push(`${where}: ${specifier} (outside ${relative(ROOT, allowedDir)})`)
      else walk(target)
    }
  }
  walk(entry)
  return bad
}

function sourceFiles (dir: string, extension: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path, extension)
    return name.endsWith(extension) && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

const readDisk = (path: string): string => readFileSync(path, 'utf8')

test('the scanner flags runtime imports from outside and lets type-only imports through', () => {
  const fake = new Map<string, string>([
    [join(RECEIVER_DIR, 'entry.ts'), [
      "import type { Envelope } from '../events/envelope.js'",
      "export type { EventType } from '../events/event-types.js'",
      "import { createHmac } from 'node:crypto'",
      "import { helper } from './helper.js'",
      "import { type ServiceError } from '../errors.js'",
      "export { signHeaders } from '../signing/signer.js'",
    ].join('\n')],
    [join(RECEIVER_DIR, 'helper.ts'), [
      "import 'pino'",
      "import crypto from 'crypto'",
      "const lazy = () => import('fastify')",
      "export const helper = 1",
    ].join('\n')],
  ])
  const found = violations(join(RECEIVER_DIR, 'entry.ts'), RECEIVER_DIR, (p) => fake.get(p) ?? '')
  assert.deepEqual(found.map((v) => v.split(': ')[1]?.split(' ')[0]).sort(), [
    '../errors.js', '../signing/signer.js', 'crypto', 'fastify', 'pino',
  ])
})

test('src/receiver imports only node: built-ins and its own files at runtime', () => {
  const files = sourceFiles(RECEIVER_DIR, '.ts')
  assert.ok(files.includes(join(RECEIVER_DIR, 'index.ts')))
  // Every file, not only those reachable from index.ts, so a new file cannot slip in later.
  for (const file of files) assert.deepEqual(violations(file, RECEIVER_DIR, readDisk), [], relative(ROOT, file))
})

test('the JavaScript that TypeScript emits for src/receiver imports only node: built-ins and siblings', () => {
  const options = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> }
  const { options: compilerOptions } = ts.convertCompilerOptionsFromJson(options.compilerOptions, ROOT)
  for (const file of sourceFiles(RECEIVER_DIR, '.ts')) {
    const { outputText } = ts.transpileModule(readDisk(file), { compilerOptions, fileName: file })
    for (const specifier of runtimeSpecifiers(file, outputText)) {
      assert.ok(specifier.startsWith('node:') || /^\.\/[a-z0-9-]+\.js$/.test(specifier), `${relative(ROOT, file)} emits an import of ${specifier}`)
    }
  }
})

test('the built dist/receiver imports only node: built-ins and siblings', { skip: existsSync(DIST_DIR) ? false : 'not built (npm run build)' }, () => {
  const files = sourceFiles(DIST_DIR, '.js')
  assert.ok(files.length > 0)
  for (const file of files) {
    for (const specifier of runtimeSpecifiers(file, readDisk(file))) {
      assert.ok(specifier.startsWith('node:') || /^\.\/[a-z0-9-]+\.js$/.test(specifier), `${relative(ROOT, file)} imports ${specifier}`)
    }
  }
})
