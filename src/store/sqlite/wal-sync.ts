import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs'
import type { Database } from 'better-sqlite3'

/**
 * Durable commits without blocking the event loop. With synchronous=FULL, SQLite fsyncs the WAL
 * inside COMMIT, on the thread that commits: the main thread, for ~5 ms (p99 25 ms on the
 * bench machine's disk) per batch of events, during which no request is parsed and no delivery
 * sent (docs/performance.md). Instead, an event batch commits with synchronous=NORMAL (its WAL
 * frames are written, not yet fsynced) and then `sync()` fdatasyncs the WAL file on libuv's
 * thread pool; callers are told "accepted" only after it returns.
 *
 * Why that is as durable as FULL: a commit is on disk once its WAL frames and every frame before
 * them are, which is what an fdatasync of the WAL started after the commit guarantees (Linux
 * syncs the file, whichever descriptor asks). A checkpoint that moved the frames into the
 * database first has fsynced both files itself (NORMAL still syncs at checkpoints). The WAL file
 * is only deleted when the last connection closes, never while this one is open; `nlink === 0`
 * is checked anyway and the file reopened.
 *
 * Several batches share one fdatasync: while one runs, the batches that commit meanwhile wait
 * for the next, which starts when it ends. So at most one of libuv's four pool threads is busy
 * syncing, and DNS lookups of webhook hosts (also on the pool) never queue behind fsyncs.
 */
export interface WalSync {
  /** Resolves when everything committed before the call is on disk. */
  sync (): Promise<void>
  /** Waits for syncs in flight, then closes the file (before the database is closed). */
  close (): Promise<void>
}

export function createWalSync (db: Database): WalSync {
  // An in-memory database has nothing to sync.
  if (db.memory) return { sync: async () => {}, close: async () => {} }
  const walPath = `${db.name}-wal`
  let fd: number | null = null
  let running: Promise<void> | null = null
  let next: Promise<void> | null = null

  function descriptor (): number {
    if (fd !== null && fstatSync(fd).nlink === 0) {
      closeSync(fd)
      fd = null
    }
    fd ??= openSync(walPath, 'r+')
    return fd
  }

  function syncOnce (): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let target: number
      try {
        target = descriptor()
      } catch (err) {
        reject(err)
        return
      }
      fdatasync(target, (err) => { if (err === null) resolve(); else reject(err) })
    })
  }

  function sync (): Promise<void> {
    if (running === null) {
      running = syncOnce().finally(() => { running = null })
      return running
    }
    // One in flight may have started before our commit: wait for it, then share the next one.
    next ??= running.then(() => undefined, () => undefined).then(() => {
      next = null
      return sync()
    })
    return next
  }

  return {
    sync,
    async close () {
      await next?.catch(() => undefined)
      await running?.catch(() => undefined)
      if (fd !== null) closeSync(fd)
      fd = null
    },
  }
}
