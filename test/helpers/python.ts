import { spawnSync } from 'node:child_process'

/**
 * Runs `python3 -c script` with `input` as UTF-8 JSON on stdin and returns stdout parsed as JSON.
 * Inputs go through stdin, never the command line, so bytes and secrets arrive intact.
 */
export function runPython (script: string, input: unknown): unknown {
  const result = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
  })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`python3 exited ${result.status}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}
