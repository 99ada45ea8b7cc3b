import { Type } from '@sinclair/typebox'
import type { TLiteral, TNull, TObject, TProperties, TSchema, TString, TUnion, ObjectOptions, StringOptions } from '@sinclair/typebox'

/**
 * Building blocks shared by the call and campaign schemas. Every payload object is open
 * (`additionalProperties: true`): Kejue may add fields, and a receiver must not break on them.
 */

/**
 * ISO-8601 date-time with a `Z` or `±hh:mm` offset, e.g. `2025-01-15T10:30:00Z` (the spec's form).
 * A pattern rather than `format: 'date-time'`, so the compiled validator needs no format registry.
 */
export const ISO_TIMESTAMP_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$'

/** An absolute http(s) URL, such as the spec's `recording_url`. */
export const HTTP_URL_PATTERN = '^https?://\\S+$'

/** An object schema that allows fields it does not name. */
export function OpenObject<T extends TProperties> (properties: T, options: ObjectOptions = {}): TObject<T> {
  return Type.Object(properties, { additionalProperties: true, ...options })
}

/** `T | null`: the spec prints `null` for fields that have no value yet (`campaign_id`, `next_retry_at`). */
export function Nullable<T extends TSchema> (schema: T): TUnion<[T, TNull]> {
  return Type.Union([schema, Type.Null()], { description: schema.description })
}

/** A closed set of strings, as a union of literals (TypeBox's idiom; no TS `enum`). */
export function StringEnum<const T extends string[]> (
  values: [...T],
  options: { description?: string } = {},
): TUnion<{ [K in keyof T]: TLiteral<T[K]> }> {
  const literals = values.map((value) => Type.Literal(value))
  return Type.Union(literals, options) as unknown as TUnion<{ [K in keyof T]: TLiteral<T[K]> }>
}

/** An identifier such as `job_123`: a non-empty string. */
export function Id (description: string): TString {
  return Type.String({ minLength: 1, description })
}

export function Timestamp (description: string): TString {
  return Type.String({ pattern: ISO_TIMESTAMP_PATTERN, description })
}

export function HttpUrl (description: string, options: StringOptions = {}): TString {
  return Type.String({ pattern: HTTP_URL_PATTERN, description, ...options })
}

/** A non-negative whole count (contacts, attempts). */
export function Count (description: string): ReturnType<typeof Type.Integer> {
  return Type.Integer({ minimum: 0, description })
}

/** A percentage, 0–100. */
export function Percent (description: string): ReturnType<typeof Type.Number> {
  return Type.Number({ minimum: 0, maximum: 100, description })
}

/**
 * `persona_id`, optional and nullable on every event: persona-scoped webhooks route on it
 * (docs/wire-format.md#routing, "for scope_type persona, the event belongs to its persona_id").
 */
export const PersonaIdField = Type.Optional(Nullable(Id('The persona (AI agent) the event belongs to; routes persona-scoped webhooks.')))
