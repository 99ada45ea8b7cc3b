/**
 * Delivery workers as separate processes for the PostgreSQL bench: the built CLI's
 * `serve --role worker`, exactly as an operator runs them.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))

export interface WorkerProcesses {
  stop (): Promise<void>
}

export async function startWorkerProcesses (count: number, databaseUrl: string): Promise<WorkerProcesses> {
  const children: ChildProcess[] = []
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [MAIN, 'serve', '--role', 'worker'], {
      env: { ...process.env, KEJUE_DATABASE_URL: databaseUrl, KEJUE_ALLOW_PRIVATE_NETWORKS: 'true', KEJUE_LOG_LEVEL: process.env.KEJUE_BENCH_WORKER_LOG_LEVEL ?? 'error' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const [chunk] = await once(child.stdout as NodeJS.ReadableStream, 'data') as [Buffer]
    if (!chunk.toString().includes('worker started')) throw new Error(`worker did not start: ${chunk.toString()}`)
    children.push(child)
  }
  return {
    async stop () {
      await Promise.all(children.map(async (child) => {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }))
    },
  }
}
