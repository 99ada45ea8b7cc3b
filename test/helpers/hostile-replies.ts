/**
 * Hostile answers a webhook receiver can give, for tests and `bench/isolation.ts`: each takes
 * over a Node `ServerResponse` (the receiver helper's `write` hook) and stops when the client
 * hangs up. They never finish on their own; the sender's caps and deadline must end them.
 */
import type { ServerResponse } from 'node:http'

function every (res: ServerResponse, intervalMs: number, tick: () => void): void {
  const timer = setInterval(() => {
    if (res.socket === null || res.socket.destroyed) clearInterval(timer)
    else tick()
  }, intervalMs)
  res.socket?.on('close', () => clearInterval(timer))
}

/** A status line, then header lines as fast as the timer allows, forever (1 KiB every ms). */
export function endlessHeaders (res: ServerResponse): void {
  const socket = res.socket
  if (socket === null) return
  socket.write('HTTP/1.1 200 OK\r\n')
  const line = `X-Padding: ${'a'.repeat(1_000)}\r\n`
  every(res, 1, () => socket.write(line))
}

/** A status line, then one byte of a header every `intervalMs`: the headers never end. */
export function trickledHeaders (res: ServerResponse, intervalMs = 1_000): void {
  const socket = res.socket
  if (socket === null) return
  socket.write('HTTP/1.1 200 OK\r\nX-Slow: ')
  every(res, intervalMs, () => socket.write('a'))
}

/** A 200 promising 1 MB, whose body comes one byte every `intervalMs`. */
export function trickledBody (res: ServerResponse, intervalMs = 1_000): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(1_000_000) })
  res.flushHeaders()
  every(res, intervalMs, () => res.write('a'))
}
