import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Database } from 'better-sqlite3'

/**
 * WAL checkpoints off the main thread. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses `wal_autocheckpoint` pages, on the thread that commits: it copies the WAL into the
 * database file and fsyncs it, stopping the event loop for tens of milliseconds now and then —
 * what made one bench run's p99 at 1,000 ev/s 138 ms instead of 20 (docs/performance.md).
 * Here the store's own connection never checkpoints (`wal_autocheckpoint = 0`); a worker thread
 * with a connection of its own runs a PASSIVE checkpoint every `intervalMs` (it takes no lock
 * that a writer waits for, and copies what no reader still needs). The next writer after a
 * complete checkpoint starts the WAL over from its beginning, so the file stays small.
 *
 * Durability is SQLite's own: a checkpoint syncs the WAL before copying and the database after.
 * Closing stops the worker first; the store's connection then closes last and checkpoints
 * everything (SQLite does so when the last connection to a WAL database closes).
 */
export interface Checkpointer {
  close (): Promise<void>
}

// Plain CommonJS so that it runs the same from dist/ and under tsx in tests (eval: true).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path, { fileMustExist: true })
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs)
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close()
    parentPort.close()
    return
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // A full disk or a locked file: the next turn tries again; the WAL only grows meanwhile.
  }
  parentPort.postMessage('done')
})
`

export function startCheckpointer (db: Database, options: { intervalMs: number, busyTimeoutMs: number }): Checkpointer {
  // An in-memory database has no WAL and cannot be opened twice.
  if (db.memory) return { close: async () => {} }
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path: db.name, busyTimeoutMs: options.busyTimeoutMs },
  })
  db.pragma('wal_autocheckpoint = 0')
  let running = false
  let alive = true
  let closing = false
  worker.on('message', () => { running = false })
  worker.once('exit', () => {
    alive = false
    clearInterval(timer)
    // Should the worker die (it could not open the file), SQLite checkpoints on commit again.
    if (!closing && db.open) db.pragma('wal_autocheckpoint = 1000')
  })
  worker.on('error', () => {})
  worker.unref()
  const timer = setInterval(() => {
    if (running) return
    running = true
    worker.postMessage('checkpoint')
  }, options.intervalMs)
  timer.unref()

  return {
    async close () {
      closing = true
      clearInterval(timer)
      if (!alive) return
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      // Unref'd so that an open store never keeps a process alive; waited for here.
      worker.ref()
      worker.postMessage('close')
      await exited
    },
  }
}
