/**
 * Serves a Fetch-style handler (`(Request) => Response`, as Hono's `app.fetch` and a Next.js route
 * handler's `POST`) on 127.0.0.1, port 0, so real deliveries can reach it over HTTP. A handler
 * that throws gets a 500, as Next.js and Hono answer.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export type FetchHandler = (request: Request) => Response | Promise<Response>

export async function serveFetch (handler: FetchHandler): Promise<{ url: string, close (): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const headers = new Headers()
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers.set(name, value)
        else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
      }
      const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
        method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
      })
      Promise.resolve()
        .then(() => handler(request))
        .then(async (response) => {
          const body = Buffer.from(await response.arrayBuffer())
          res.writeHead(response.status, Object.fromEntries(response.headers)).end(body)
        }, () => {
          res.writeHead(500).end()
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
