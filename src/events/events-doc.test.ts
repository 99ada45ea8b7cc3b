import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { TSchema } from '@sinclair/typebox'
import { EVENT_CATALOG } from './catalog.js'
import { EVENT_TYPES } from './event-types.js'
import { validateEventData } from './validate.js'

/** docs/events.md must not drift from the schemas: every field documented, every example valid. */
const DOC = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8')

function sectionOf (type: string): string {
  const start = DOC.indexOf(`\n## ${type}\n`)
  assert.ok(start >= 0, `docs/events.md has a "## ${type}" section`)
  const end = DOC.indexOf('\n## ', start + 1)
  return DOC.slice(start, end === -1 ? undefined : end)
}

/** Every property path of a schema, nested objects (also inside `T | null`) included. */
function fieldPaths (schema: TSchema, prefix = ''): string[] {
  const out: string[] = []
  const properties = (schema.properties ?? {}) as Record<string, TSchema>
  for (const [key, child] of Object.entries(properties)) {
    out.push(prefix + key)
    const variants = Array.isArray(child.anyOf) ? (child.anyOf as TSchema[]) : [child]
    for (const variant of variants) {
      if (variant.type === 'object' && variant.properties !== undefined) out.push(...fieldPaths(variant, `${prefix}${key}.`))
    }
  }
  return out
}

for (const type of EVENT_TYPES) {
  test(`docs/events.md documents every field of ${type} and its example validates`, () => {
    const section = sectionOf(type)
    for (const path of fieldPaths(EVENT_CATALOG[type].schema)) {
      assert.ok(section.includes(`| \`${path}\` |`), `${type}: field ${path} has a row in docs/events.md`)
    }
    const example = /```json\n([\s\S]*?)\n```/.exec(section)
    assert.ok(example?.[1] !== undefined, `${type} has an example`)
    const parsed = JSON.parse(example[1]) as { event: string, data: unknown }
    assert.equal(parsed.event, type)
    const result = validateEventData(type, parsed.data)
    assert.deepEqual(result.ok ? [] : result.errors, [])
  })
}
