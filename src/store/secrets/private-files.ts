/**
 * The data directory is private (docs/storage.md, "Encryption at rest"): mode 0700, its files
 * 0600, tightened at every start in case an older release or a copy loosened them.
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Creates `dir` (0700) when missing; otherwise sets it to 0700 and each regular file in it to 0600. */
export function ensurePrivateDir (dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat?.isFile() === true && (stat.mode & 0o077) !== 0) chmodSync(path, 0o600)
  }
}
