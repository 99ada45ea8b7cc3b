import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Database } from 'better-sqlite3'

/**
 * WAL checkpoints, mostly off the main thread. A checkpoint copies the WAL's pages into the
 * database file and fsyncs it; inside a COMMIT on the main thread (SQLite's automatic checkpoint)
 * that stopped the event loop for tens of milliseconds now and then (docs/performance.md).
 *
 * A worker thread with a connection of its own runs PASSIVE checkpoints (they take no lock a
 * writer waits for): every `busyIntervalMs` while the WAL grows, backing off to `idleIntervalMs`
 * while it does not (short, so that a burst after a quiet spell does not reach the bound first
 * and leave the whole copy to a commit). That does the copying and the database fsync. But only
 * a writer can start the WAL over from its beginning, and only when every frame was copied at
 * the moment its transaction began; under a steady stream of commits the worker is never quite caught up at that
 * moment, and the WAL then grew without end (263 MB in 8 s at 1,000 events/s, every frame
 * appended to a new part of the file, which the kernel zeroes first: 16 % of the service's CPU;
 * docs/performance.md "Seventh round"). So the store's own connection keeps SQLite's automatic
 * checkpoint, at `walLimitPages`: when the WAL reaches that size, the commit that crossed it
 * copies what the worker has not copied yet — the last few milliseconds' pages — and the next
 * write starts the WAL over. The WAL stays near that size and its pages stay in the page cache.
 *
 * Durability is SQLite's own: a checkpoint syncs the WAL before copying and the database after.
 * Closing stops the worker first; the store's connection then closes last and checkpoints
 * everything (SQLite does so when the last connection to a WAL database closes).
 */
export interface Checkpointer {
  close (): Promise<void>
}

export interface CheckpointerOptions {
  /** Pause between the worker's checkpoints while the WAL grows. */
  busyIntervalMs: number
  /** Longest pause while it does not. */
  idleIntervalMs: number
  /** WAL size, in pages, at which the store's own connection checkpoints (the bound). */
  walLimitPages: number
  busyTimeoutMs: number
}

// Plain CommonJS so that it runs the same from dist/ and under tsx in tests (eval: true).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path, { fileMustExist: true })
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs)
let lastLog = -1
let delay = workerData.busyIntervalMs
let timer = setTimeout(pass, delay)
function pass () {
  let grew = true
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)')
    // log: frames in the WAL; checkpointed: frames copied into the database file.
    grew = result.log !== lastLog || result.checkpointed < result.log
    lastLog = result.log
  } catch {
    // A full disk or a locked file: try again soon; the WAL only grows meanwhile.
  }
  delay = grew ? workerData.busyIntervalMs : Math.min(workerData.idleIntervalMs, delay * 2)
  timer = setTimeout(pass, delay)
}
parentPort.on('message', (message) => {
  if (message !== 'close') return
  clearTimeout(timer)
  db.close()
  parentPort.close()
})
`

/** SQLite's own default, for a connection whose worker is gone. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1_000

export function startCheckpointer (db: Database, options: CheckpointerOptions): Checkpointer {
  // An in-memory database has no WAL and cannot be opened twice.
  if (db.memory) return { close: async () => {} }
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: db.name,
      busyTimeoutMs: options.busyTimeoutMs,
      busyIntervalMs: options.busyIntervalMs,
      idleIntervalMs: options.idleIntervalMs,
    },
  })
  const limitPages = Math.max(1, Math.floor(options.walLimitPages))
  db.pragma(`wal_autocheckpoint = ${limitPages}`)
  // A WAL that once grew past twice the bound (a long read in another process holds its frames)
  // is cut back to that when it next starts over, instead of keeping its largest size on disk.
  db.pragma(`journal_size_limit = ${2 * limitPages * Number(db.pragma('page_size', { simple: true }))}`)
  let alive = true
  let closing = false
  worker.once('exit', () => {
    alive = false
    // Should the worker die (it could not open the file), SQLite checkpoints as often as usual.
    if (!closing && db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`)
  })
  worker.on('error', () => {})
  // Unref'd so that an open store never keeps a process alive; waited for in close().
  worker.unref()

  return {
    async close () {
      closing = true
      if (!alive) return
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      worker.ref()
      worker.postMessage('close')
      await exited
    },
  }
}
