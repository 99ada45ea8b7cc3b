import { readFileSync } from 'node:fs'

/** This package's version, read once from package.json (the same path from src/ and dist/). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** Sent on every delivery (docs/wire-format.md). */
export const USER_AGENT = `kejue-webhooks/${VERSION}`
