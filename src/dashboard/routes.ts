/**
 * Serves the dashboard: a static single-page client (public/ at the package root) that talks only
 * to the public REST API (/api/v1), so it can do nothing the API forbids.
 *
 * public/ sits at the package root so the same relative path works from src/dashboard (tests,
 * tsx) and dist/dashboard (npm start); package.json "files" ships it.
 *
 * Safety: the servable files are listed once at registration by walking public/, and a request is
 * answered only when its path is exactly one of them. Nothing from the URL is ever joined onto a
 * file-system path, so `..`, encoded slashes or symlink tricks have nothing to work with.
 */
import { readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
// For `schema.hide`: these routes stay out of the OpenAPI document.
import type {} from '@fastify/swagger'
import { notFound } from '../errors.js'

export interface DashboardOptions {
  /**
   * Directory holding index.html and the assets.
   * @defaultValue the package's public/ folder
   */
  publicDir?: string
  /**
   * Origins allowed to frame the dashboard (KEJUE_PORTAL_FRAME_ANCESTORS), for portal links
   * embedded in a platform's own app. Empty: no framing at all.
   */
  frameAncestors?: readonly string[]
}

/** Where the assets are served from; `/` itself serves index.html. */
export const DASHBOARD_ASSET_PREFIX = '/dashboard/'

export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url))

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
}

// Scripts, styles and API calls come from this service only (no CDN, no inline code); the page
// cannot be framed (unless frameAncestors lists origins); forms cannot post elsewhere.
function contentSecurityPolicy (frameAncestors: readonly string[]): string {
  const policy = [...BASE_POLICY, `frame-ancestors ${frameAncestors.length === 0 ? "'none'" : frameAncestors.join(' ')}`]
  return policy.join('; ')
}

const BASE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
]

/** Every servable file below `dir`, keyed by its URL path relative to `dir` ("js/main.js"). */
export function listPublicFiles (dir: string): Map<string, string> {
  const files = new Map<string, string>()
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      if (name.startsWith('.')) continue
      const path = join(current, name)
      const stat = statSync(path)
      if (stat.isDirectory()) walk(path)
      else if (stat.isFile() && extname(name) in CONTENT_TYPES) {
        files.set(relative(dir, path).split(sep).join('/'), path)
      }
    }
  }
  walk(dir)
  return files
}

export async function dashboardRoutes (app: FastifyInstance, options: DashboardOptions = {}): Promise<void> {
  const dir = options.publicDir ?? DEFAULT_PUBLIC_DIR
  const files = listPublicFiles(dir)
  const frameAncestors = options.frameAncestors ?? []
  const csp = contentSecurityPolicy(frameAncestors)
  if (!files.has('index.html')) throw new Error(`dashboard: no index.html in ${dir}`)

  const send = async (reply: FastifyReply, name: string): Promise<FastifyReply> => {
    const path = files.get(name)
    if (path === undefined) throw notFound('Dashboard file')
    const type = CONTENT_TYPES[extname(name)] ?? 'application/octet-stream'
    const body = await readFile(path)
    reply
      .header('content-type', type)
      // Small files: revalidate every time so an upgrade is picked up at once.
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
    if (name.endsWith('.html')) {
      reply.header('content-security-policy', csp)
      // X-Frame-Options has no allow-list; CSP frame-ancestors governs framing when origins are set.
      if (frameAncestors.length === 0) reply.header('x-frame-options', 'DENY')
    }
    return reply.send(body)
  }

  app.get('/', { schema: { hide: true } }, async (_request, reply) => send(reply, 'index.html'))
  app.get(`${DASHBOARD_ASSET_PREFIX}*`, { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*'?: string })['*'] ?? ''
    return send(reply, name)
  })
}
