/** The loopback receiver (bench/receiver-process.ts) in its own process, driven over IPC. */
import { fork } from 'node:child_process'
import { sleep } from './phase.js'

export interface ReceiverStats {
  count: number
  /** Accept→arrival latencies (ms) of requests whose body carried metadata.sent_at_ms. */
  latencies: number[]
  /** performance.timeOrigin + performance.now() of the last arrival (0 before any). */
  lastAt: number
}

export interface Receiver {
  port: number
  stats (): Promise<ReceiverStats>
  reset (): Promise<void>
  /** Resolves when `count` requests arrived since the last reset; throws after timeoutMs. */
  waitForCount (count: number, timeoutMs: number): Promise<ReceiverStats>
  close (): void
}

export function startReceiver (): Promise<Receiver> {
  const child = fork(new URL('./receiver-process.ts', import.meta.url), { execArgv: ['--import', 'tsx'] })
  const ask = <T>(type: string): Promise<T> => new Promise((resolve) => {
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return
      child.off('message', onMessage)
      resolve(message as T)
    }
    child.on('message', onMessage)
    child.send({ type })
  })
  const stats = (): Promise<ReceiverStats> => ask<ReceiverStats>('stats')
  return new Promise((resolve) => {
    child.once('message', (message: { port: number }) => resolve({
      port: message.port,
      stats,
      reset: async () => { await ask('reset') },
      async waitForCount (count, timeoutMs) {
        const deadline = Date.now() + timeoutMs
        while (Date.now() < deadline) {
          const now = await ask<ReceiverStats>('count')
          if (now.count >= count) return await stats()
          await sleep(20)
        }
        throw new Error(`the receiver got fewer than ${count} requests in ${timeoutMs} ms`)
      },
      close: () => { child.send({ type: 'exit' }) },
    }))
  })
}
