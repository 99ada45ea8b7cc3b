/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL (or any server), for network faults the
 * database itself cannot stage:
 * - `cut()`: every open connection is dropped, and new ones are accepted and never answered (a
 *   host that went away);
 * - `silence()`: open connections stay open but nothing passes any more, either way, and new ones
 *   are accepted and never answered (a network gone quiet: no FIN, no RST); `restore()` forwards
 *   new connections again, while the silenced ones stay silent for good.
 *
 * @example
 * const proxy = await startTcpProxy('127.0.0.1', 5432)
 * const url = `postgres://postgres@127.0.0.1:${proxy.port}/test`
 */
import { connect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

export interface TcpProxy {
  port: number
  cut (): void
  silence (): void
  restore (): void
  close (): Promise<void>
}

export async function startTcpProxy (host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let forwarding = true
  const pairs: Array<{ client: Socket, upstream: Socket }> = []
  const server = createServer((client) => {
    sockets.add(client)
    client.on('error', () => {})
    client.on('close', () => sockets.delete(client))
    if (!forwarding) return
    const upstream = connect(port, host)
    upstream.on('error', () => {})
    upstream.on('close', () => sockets.delete(upstream))
    sockets.add(upstream)
    client.pipe(upstream).pipe(client)
    pairs.push({ client, upstream })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    cut () {
      forwarding = false
      for (const socket of sockets) socket.destroy()
    },
    silence () {
      forwarding = false
      for (const { client, upstream } of pairs.splice(0)) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    restore () {
      forwarding = true
    },
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
