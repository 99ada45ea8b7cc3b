/**
 * SQLite on a full disk, through the real service: `serve` runs with a file-size limit
 * (RLIMIT_FSIZE, set on the running process with prlimit) just above its database files, so
 * the next writes fail as on a full disk (EFBIG/ENOSPC → SQLITE_IOERR/SQLITE_FULL). While it
 * lasts, /healthz answers 503 and POST /events 503 STORE_UNAVAILABLE, never a 500 or a 202 that
 * was not stored; once the limit is lifted, /healthz is 200 again and every event that got a
 * 202 is delivered. Needs `npm run build` first (npm test does it) and util-linux's prlimit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Service } from '../helpers/served.js'
import { createWebhook, health, MAIN, postEvent, startReceiver, startService, stopService, waitFor } from '../helpers/served.js'

function hasPrlimit (): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Sets the soft file-size limit of a running process (bytes, or 'unlimited'). */
function limitFileSize (pid: number, soft: number | 'unlimited'): void {
  execFileSync('prlimit', ['--pid', String(pid), `--fsize=${soft}:unlimited`])
}

test('sqlite: while the disk is full /healthz is 503 and events 503 STORE_UNAVAILABLE; after, 200 and every 202 is delivered', { skip: hasPrlimit() ? false : 'prlimit (util-linux) is not installed', timeout: 180_000 }, async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`)
  const dataDir = await mkdtemp(join(tmpdir(), 'kejue-disk-full-'))
  const receiver = await startReceiver()
  let service: Service | null = null
  try {
    service = await startService(dataDir)
    const running = service
    const pid = running.child.pid
    assert.ok(pid !== undefined)
    await createWebhook(running, receiver.url)
    assert.equal(await health(running), 200)

    // Room for a few hundred KB more in any one file: the WAL soon reaches it.
    const largest = Math.max(...(await readdir(dataDir)).map((name) => statSync(join(dataDir, name)).size))
    limitFileSize(pid, largest + 256 * 1024)

    const accepted = new Set<string>()
    let n = 0
    // Writes fail once a file would pass the limit. The WAL is checkpointed into the database
    // file and starts over in the background, so small writes may still fit for a while after
    // the first refusal: keep filling until both a POST and the /healthz write probe fail.
    const refused = await waitFor('a refused event while /healthz is 503', async () => {
      const eventId = `evt_fill_${n++}`
      const outcome = await postEvent(running, eventId)
      assert.ok(outcome.status === 202 || outcome.status === 503, outcome.body)
      if (outcome.status === 202) {
        accepted.add(eventId)
        return null
      }
      return await health(running) === 503 ? outcome : null
    }, 120_000)
    assert.equal(refused.code, 'STORE_UNAVAILABLE', refused.body)
    assert.equal(running.child.exitCode, null, 'the service stays up')

    limitFileSize(pid, 'unlimited')
    await waitFor('/healthz 200 again', async () => await health(running) === 200 ? true : null)
    const after = await postEvent(running, 'evt_after')
    assert.equal(after.status, 202, after.body)
    accepted.add('evt_after')
    await waitFor('every accepted event at the receiver', () => [...accepted].every((id) => receiver.received.has(id)) ? true : null, 120_000)
    assert.doesNotMatch(running.stderr(), /"level":50.*request failed/, 'no request failed with a 500')
  } finally {
    if (service !== null) await stopService(service)
    await receiver.close()
    await rm(dataDir, { recursive: true, force: true })
  }
})
