import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { EVENT_TYPES } from '../../src/events/event-types.js'

// The receiver's plain event types (src/receiver/events.ts) are written out by hand so its .d.ts
// import nothing; the catalog's TypeBox schemas are the truth. This compiles a probe that demands
// the two be the same, field by field (same keys, same optionality, mutually assignable types),
// for every event type and every nested object, and fails with the compiler's words if not.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

const PROBE_HEADER = `
import type { EventDataMap } from './src/events/catalog.js'
import type { KejueEventDataMap, KejueEventType } from './src/receiver/events.js'
import type { EventType } from './src/events/event-types.js'
import type { Envelope } from './src/events/envelope.js'
import type { KejueEnvelope } from './src/receiver/events.js'

type Keys<T> = T extends object ? { [K in keyof T]-?: K }[keyof T] : never
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T]
type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Plain<T> = Exclude<T, null | undefined>
/** Same keys, same optional keys, and for each key a same type, recursing into objects and arrays. */
type Same<A, B> =
  Plain<A> extends Array<infer X> ? (Plain<B> extends Array<infer Y> ? Same<X, Y> : false)
  : Plain<A> extends Record<string, unknown>
    ? Equal<Keys<Plain<A>>, Keys<Plain<B>>> extends true
      ? Equal<OptionalKeys<Plain<A>>, OptionalKeys<Plain<B>>> extends true
        ? Equal<A, B> extends true
          ? false extends { [K in Keys<Plain<A>>]: Same<Plain<A>[K], Plain<B>[K & keyof Plain<B>]> }[Keys<Plain<A>>] ? false : true
          : false
        : false
      : false
    : Equal<A, B>
type Assert<T extends true> = T
export type EventTypesMatch = Assert<Equal<EventType, KejueEventType>>
export type EnvelopesMatch = Assert<Same<Envelope<'call.ended', { a: number }>, KejueEnvelope<'call.ended', { a: number }>>>
`

function probe (body: string): string[] {
  const fileName = join(ROOT, '__event_types_probe__.ts')
  const configPath = join(ROOT, 'tsconfig.json')
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT)
  const host = ts.createCompilerHost(parsed.options)
  const source = PROBE_HEADER + body
  const readFile = host.readFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  host.readFile = (p) => (p === fileName ? source : readFile(p))
  host.fileExists = (p) => p === fileName || fileExists(p)
  host.getSourceFile = (p, target, onError, create) => (p === fileName
    ? ts.createSourceFile(p, source, target)
    : getSourceFile(p, target, onError, create))
  const program = ts.createProgram([fileName], { ...parsed.options, noEmit: true }, host)
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(fileName))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

const perEvent = EVENT_TYPES.map((type, i) =>
  `export type E${i} = Assert<Same<EventDataMap['${type}'], KejueEventDataMap['${type}']>>`)

// Mutants of call.ended that Same must call different, so the check above cannot pass vacuously.
const CallEnded = 'KejueEventDataMap[\'call.ended\']'
const mutants = [
  `Omit<${CallEnded}, 'transcript'>`,
  `Omit<${CallEnded}, 'duration_seconds'> & { duration_seconds: string }`,
  `Omit<${CallEnded}, 'duration_seconds'> & { duration_seconds?: number }`,
  `Omit<${CallEnded}, 'retry'> & { retry?: { will_retry: boolean, attempt_number: number, max_attempts: number } }`,
  `${CallEnded} & { extra: string }`,
].map((mutant, i) => `export type M${i} = Assert<Equal<Same<EventDataMap['call.ended'], ${mutant}>, false>>`)

test('the receiver\'s event types match the catalog\'s schemas for every event, and the check catches mutants', () => {
  assert.deepEqual(probe([...perEvent, ...mutants].join('\n')), [])
})
