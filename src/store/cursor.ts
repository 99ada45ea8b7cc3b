/**
 * Page cursors of every store: opaque to clients, the same on SQLite and PostgreSQL. A cursor is
 * the last id of a page behind a version tag, base64url-encoded (`v1:<id>`), so its format can
 * change later without old cursors being misread. Keyset paging on ids is stable under inserts.
 */
import { validationError } from '../errors.js'

const VERSION = 'v1:'

export function encodeCursor (lastId: string): string {
  return Buffer.from(`${VERSION}${lastId}`, 'utf8').toString('base64url')
}

/** The id a cursor stands for; a VALIDATION error on `cursor` for anything not made by encodeCursor. */
export function decodeCursor (cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!text.startsWith(VERSION) || text.length <= VERSION.length || encodeCursor(text.slice(VERSION.length)) !== cursor) {
    throw validationError('invalid cursor', [{ path: 'cursor', message: 'must be a next_cursor from a previous page' }])
  }
  return text.slice(VERSION.length)
}
