/**
 * The HTTP API as a Fastify instance that never listens (server.ts does): tests drive it with
 * `app.inject()`. Routes under /api/v1 need an X-API-Key; /healthz, /metrics, /docs and
 * /api/v1/openapi.json do not.
 *
 * @example
 * const app = await buildApp({ store, config, logger })
 * const res = await app.inject({ method: 'GET', url: '/healthz' })
 */
import { randomUUID } from 'node:crypto'
import { isUtf8 } from 'node:buffer'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { createMetrics } from '../observability/metrics.js'
import type { Metrics } from '../observability/metrics.js'
import { ServiceError } from '../errors.js'
import { createAuthenticator, credentialOf } from './auth.js'
import type { Principal } from './auth.js'
import { checkPortalObjects, checkPortalRoute, portalDescription, portalOf } from './portal.js'
import { portalSessionRoutes } from './routes/portal-sessions.js'
import { webhookStatsRoutes } from './routes/webhook-stats.js'
import { buildLocalReference, enrichOpenApi, registerOpenApiComponents } from './openapi.js'
import type { ApiDeps } from './deps.js'
import { lazyChildLogger } from './request-logger.js'
import { clientErrorHandler, createErrorHandler, errorBody } from './error-handler.js'
import { typeboxValidatorCompiler } from './validation.js'
import { healthRoutes } from './routes/health.js'
import { webhookRoutes } from './routes/webhooks.js'
import { deliveryRoutes } from './routes/deliveries.js'
import { eventRoutes } from './routes/events.js'
import { personaCallRoutes } from './routes/persona-calls.js'
import { statsRoutes } from './routes/stats.js'
import { dashboardRoutes } from '../dashboard/routes.js'
import { workspaceRoutes } from './routes/workspaces.js'
import { campaignRoutes } from './routes/campaigns.js'
import { cliSessionRoutes } from './routes/cli-sessions.js'
import { erasureRoutes } from './routes/erasures.js'
import { createCliHub } from '../delivery/cli-hub.js'
import { VERSION } from '../util/version.js'

/** Nothing but whitespace: stops at the first other character. */
const BLANK = /^\s*$/

export interface BuildAppDeps extends Omit<ApiDeps, 'metrics' | 'auth'> {
  metrics?: Metrics
}

export async function buildApp (deps: BuildAppDeps): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? createMetrics({ processMetrics: false })
  metrics.useStore(deps.store)
  const full: ApiDeps = { ...deps, metrics, auth: createAuthenticator(deps.store) }
  const bodyLimit = deps.config.bodyLimitBytes

  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request from the onResponse hook below instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    // The router's and Node's own refusals leave in our error format too (docs/errors.md).
    frameworkErrors: (error, _request, reply) => {
      const { status, body } = errorBody(error, bodyLimit)
      // Typed for the route it failed to reach; the answer is the same plain error body as anywhere.
      void (reply as unknown as FastifyReply).status(status).send(body)
    },
    clientErrorHandler,
  })
  app.setValidatorCompiler(typeboxValidatorCompiler)
  app.setErrorHandler(createErrorHandler(bodyLimit))
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`, code: 'NOT_FOUND', details: {} })
  })

  // JSON only. An empty body parses as "no body", which routes with an optional body accept and
  // the others refuse with 400; any other content type is 415.
  app.removeAllContentTypeParsers()
  const parseJson = (_request: unknown, body: string | Buffer, done: (err: Error | null, value?: unknown) => void): void => {
    // Bytes that are not UTF-8 would be decoded as U+FFFD and stored changed: refuse them.
    if (typeof body !== 'string' && !isUtf8(body)) {
      done(new ServiceError('BAD_REQUEST', 'the body is not valid UTF-8'), undefined)
      return
    }
    const text = typeof body === 'string' ? body : body.toString()
    // A test, not trim(): trim copies the whole body of every request.
    if (BLANK.test(text)) {
      done(null, undefined)
      return
    }
    try {
      done(null, JSON.parse(text))
    } catch {
      done(new ServiceError('BAD_REQUEST', 'the body is not valid JSON'), undefined)
    }
  }
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, parseJson)
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'buffer', bodyLimit }, parseJson)

  app.decorateRequest('principal', null)
  // Synchronous hooks (done callbacks): an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id)
    done()
  })
  // One line per request, at debug for successes (a busy producer's 202s would otherwise be
  // most of the log and a measurable part of each request's cost: docs/performance.md), at
  // info for refusals and failures. KEJUE_LOG_LEVEL=debug logs every request.
  const logSuccesses = deps.logger.isLevelEnabled('debug')
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL (ids would make a series each); unknown paths share one.
    metrics.recordRequest({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      durationMs: reply.elapsedTime,
    })
    if (reply.statusCode >= 400 || logSuccesses) {
      request.log[reply.statusCode >= 400 ? 'info' : 'debug']({
        method: request.method,
        url: request.routeOptions.url ?? request.url.split('?')[0],
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
      }, 'request')
    }
    done()
  })

  registerOpenApiComponents(app)
  await app.register(swagger, {
    refResolver: { buildLocalReference },
    transformObject: (documentObject) => enrichOpenApi('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject),
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'kejue-webhooks',
        version: VERSION,
        description: 'Signed, retried, logged webhooks for the Kejue voice-AI calling platform. ' +
          'Every /api/v1 call needs a credential — a workspace API key, the admin key or a portal token — ' +
          'in X-API-Key or as Authorization: Bearer; errors are {error, code, details}.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer', description: 'Any credential X-API-Key takes (a workspace key kw_…, the admin key, a portal token kp_…), or KEJUE_METRICS_TOKEN on /metrics' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  // `kejue-webhooks listen` sessions held by this process (src/delivery/cli-hub.ts). Their streams
  // end before the server closes (it would wait for them), and the sweep of dead processes'
  // sessions runs only in a listening server, not in app.inject() tests.
  const cliHub = createCliHub({ store: deps.store, logger: deps.logger })
  app.addHook('onListen', async () => { cliHub.start() })
  app.addHook('preClose', async () => { await cliHub.stop() })

  healthRoutes(app, full)
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  await app.register(async (api) => {
    const admit = (request: FastifyRequest, reply: FastifyReply, principal: Principal): void => {
      request.principal = principal
      checkPortalRoute(request)
      // Tells the dashboard what a portal link may do, so it can leave out what would be refused.
      if (principal.kind === 'portal') void reply.header('x-kejue-portal', portalDescription(principal))
    }
    // Callback hooks, not async ones: a key found in the cache (every request of a busy producer)
    // and a request that is no portal's pass without a promise each.
    api.addHook('onRequest', (request, reply, done) => {
      const credential = credentialOf(request.headers)
      let cached: Principal | undefined
      try {
        cached = full.auth.authenticateCached(credential)
        if (cached !== undefined) admit(request, reply, cached)
      } catch (err) {
        done(err as Error)
        return
      }
      if (cached !== undefined) {
        done()
        return
      }
      full.auth.authenticate(credential).then((principal) => { admit(request, reply, principal) }).then(() => { done() }, done)
    })
    api.addHook('preHandler', (request, _reply, done) => {
      if (portalOf(request) === null) {
        done()
        return
      }
      checkPortalObjects(deps.store, request).then(() => { done() }, done)
    })
    workspaceRoutes(api, full)
    webhookRoutes(api, full)
    deliveryRoutes(api, full)
    eventRoutes(api, full)
    personaCallRoutes(api, full)
    statsRoutes(api, full)
    erasureRoutes(api, full)
    portalSessionRoutes(api, full)
    webhookStatsRoutes(api, full)
    cliSessionRoutes(api, { ...full, cliHub })
    // Sandbox only (docs/sandbox.md): without the simulator, /campaigns does not exist.
    if (full.sandbox !== undefined) campaignRoutes(api, { sandbox: full.sandbox })
  }, { prefix: '/api/v1' })
  // The dashboard: static files at / and /dashboard/*, outside the API's key check (docs/dashboard.md).
  await app.register(dashboardRoutes, { frameAncestors: deps.config.portalFrameAncestors })

  return app
}
