import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import { LOG_FIELDS, PLUGIN_NAME, REQUEST_COMPLETED_MESSAGE, UNMATCHED_ROUTE } from './constants'
import { ERROR_CODES, emitLoggingWarning } from './errors'
import { kRequestIdBound } from './fastify'
import { flushLogs, preformattedLines } from './logger'
import type { PreformattedLines } from './logger'
import { resolvePluginOptions } from './options'
import type { ResolvedPluginOptions } from './options'
import type { O11yLoggingOptions } from './types'

const kError = Symbol('o11y.logging.error')
const kRouteLine = Symbol('o11y.logging.route')
const kRegistered = Symbol.for('o11y.logging.registered')

/** What the request line of one route needs, settled once when the route is added. */
interface RouteLine {
  /** `route` field: the template, or `__unmatched__`. */
  readonly route: string
  /** Methods of this route that get no line (`config.logging: false`, `ignoreRoutes`); null: none. */
  readonly skip: ReadonlySet<string> | null
  /** Per method: the line's `route` and `method` members as JSON text (null without the preformatted path). */
  readonly fixed: ReadonlyMap<string, string> | null
}

type RequestWithError = FastifyRequest & { [kError]: Error | null }

const UNMATCHED: RouteLine = { route: UNMATCHED_ROUTE, skip: null, fixed: null }

/** The request line's field names (request_id only when the request logger does not bind it). */
const LINE_KEYS = [LOG_FIELDS.route, LOG_FIELDS.method, LOG_FIELDS.statusCode, LOG_FIELDS.responseTimeMs]
const STATUS_MEMBER = `,${JSON.stringify(LOG_FIELDS.statusCode)}:`
const RESPONSE_TIME_MEMBER = `,${JSON.stringify(LOG_FIELDS.responseTimeMs)}:`
const REQUEST_ID_MEMBER = `,${JSON.stringify(LOG_FIELDS.requestId)}:`
const MESSAGE_MEMBER = `,${JSON.stringify(LOG_FIELDS.message)}:${JSON.stringify(REQUEST_COMPLETED_MESSAGE)}`
/** Methods seen on unmatched requests whose fixed text is kept (the parser admits a bounded set anyway). */
const MAX_UNMATCHED_METHODS = 64

function o11yLoggingPlugin (fastify: FastifyInstance, options: O11yLoggingOptions, done: (err?: Error) => void): void {
  let resolved: ResolvedPluginOptions
  try {
    resolved = resolvePluginOptions(options)
  } catch (error) {
    return done(error as Error)
  }
  const { clientErrorLevel, ignoreRoutes } = resolved

  // fastify-plugin skips a second registration of the same name in one instance tree; this guard
  // also covers two copies of this package loaded side by side.
  if (fastify.hasDecorator(kRegistered)) return done()
  fastify.decorate(kRegistered, true)

  // The logger from fastifyLoggerOptions already binds request_id to every request child.
  const requestIdBound = (fastify.log as unknown as Record<symbol, unknown>)[kRequestIdBound] === true
  // A logger from this package writes the line from text fixed per route (see PreformattedLines);
  // any other logger, or one whose redaction or serializers touch these fields, gets a log call.
  const preformatted: PreformattedLines | null = preformattedLines(fastify.log, requestIdBound ? LINE_KEYS : [...LINE_KEYS, LOG_FIELDS.requestId])
  const unmatchedFixed = new Map<string, string>()

  let warnedIgnore = false
  const ignored = (url: string, method: string): boolean => {
    if (typeof ignoreRoutes !== 'function') return ignoreRoutes.has(url)
    try {
      return ignoreRoutes(url, method) === true
    } catch (error) {
      if (!warnedIgnore) {
        warnedIgnore = true
        emitLoggingWarning(ERROR_CODES.IGNORE_ROUTES_FAILED, `ignoreRoutes threw for ${method} ${url} (${error instanceof Error ? error.message : String(error)}); the route is logged`)
      }
      return false
    }
  }

  function lineFor (url: string, methods: readonly string[], config: unknown): RouteLine {
    const optedOut = (config as { logging?: unknown } | undefined)?.logging === false
    const skip = methods.filter((method) => optedOut || ignored(url, method))
    const fixed = preformatted === null ? null : new Map(methods.map((method) => [method, preformatted.fields({ [LOG_FIELDS.route]: url, [LOG_FIELDS.method]: method })]))
    return { route: url, skip: skip.length === 0 ? null : new Set(skip), fixed }
  }

  function fixedText (line: RouteLine, method: string, writer: PreformattedLines): string {
    const known = (line.fixed ?? unmatchedFixed).get(method)
    if (known !== undefined) return known
    const text = writer.fields({ [LOG_FIELDS.route]: line.route, [LOG_FIELDS.method]: method })
    if (line.fixed === null && unmatchedFixed.size < MAX_UNMATCHED_METHODS) unmatchedFixed.set(method, text)
    return text
  }

  fastify.addHook('onRoute', function o11yLoggingOnRoute (route: RouteOptions) {
    // Fastify copies `config` into the route context, so this travels with every request of the route.
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    route.config = { ...route.config, [kRouteLine]: lineFor(route.url, methods, route.config) } as RouteOptions['config']
  })

  /** Routes added before this plugin was registered have no line settings: made on first use. */
  const lateRoutes = new WeakMap<object, RouteLine>()
  function lateLine (request: FastifyRequest, config: object | undefined): RouteLine {
    const url = request.routeOptions.url
    if (request.is404 || config === undefined || url === undefined) return UNMATCHED
    let line = lateRoutes.get(config)
    if (line === undefined) {
      line = lineFor(url, [request.method], config)
      lateRoutes.set(config, line)
    }
    return line
  }

  fastify.decorateRequest(kError, null)

  // Records still queued for OTLP export go out when the app closes, within otlp.shutdownTimeoutMillis
  // (a dead or hanging collector cannot hold close() longer). The logger may outlive this app, so
  // export is flushed, not shut down.
  fastify.addHook('onClose', async function o11yLoggingFlush (instance: FastifyInstance) {
    await flushLogs(instance.log as unknown as Parameters<typeof flushLogs>[0])
  })

  fastify.addHook('onError', function o11yLoggingCaptureError (request: FastifyRequest, _reply: FastifyReply, error: Error, next: HookHandlerDoneFunction) {
    (request as RequestWithError)[kError] = error
    next()
  })

  fastify.addHook('onResponse', function o11yLoggingRequestLine (request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction) {
    const config = request.routeOptions.config as unknown as Record<symbol, RouteLine | undefined> | undefined
    const line = request.is404 ? UNMATCHED : config?.[kRouteLine] ?? lateLine(request, config)
    const method = request.method
    if (line.skip !== null && line.skip.has(method)) return next()
    const status = reply.statusCode
    const error = (request as RequestWithError)[kError]
    const level = status >= 500 ? 'error' : status >= 400 ? clientErrorLevel : 'info'
    if (preformatted !== null && error === null) {
      const id = request.id as unknown
      if (requestIdBound || typeof id === 'string' || typeof id === 'number') {
        const body = fixedText(line, method, preformatted) + STATUS_MEMBER + status + RESPONSE_TIME_MEMBER + Math.round(reply.elapsedTime * 1000) / 1000 +
          (requestIdBound ? '' : REQUEST_ID_MEMBER + preformatted.value(id as string | number)) + MESSAGE_MEMBER
        if (preformatted.write(request.log, level, body)) return next()
      }
    }
    const fields: Record<string, unknown> = {
      [LOG_FIELDS.route]: line.route,
      [LOG_FIELDS.method]: method,
      [LOG_FIELDS.statusCode]: status,
      [LOG_FIELDS.responseTimeMs]: Math.round(reply.elapsedTime * 1000) / 1000
    }
    if (!requestIdBound) fields[LOG_FIELDS.requestId] = request.id
    if (error !== null) fields[LOG_FIELDS.error] = error
    request.log[level](fields, REQUEST_COMPLETED_MESSAGE)
    next()
  })

  done()
}

/**
 * Fastify plugin: one log line per request, written when the response has been sent, with
 * `route`, `method`, `status_code`, `response_time_ms`, `request_id` and (through the logger's
 * mixin) the trace ids of the request's span. 5xx at `error` with the error serialized as `err`,
 * 4xx at `clientErrorLevel`, the rest at `info`. `config: { logging: false }` or `ignoreRoutes`
 * leaves a route out; both are decided once, when the route is added.
 */
export const o11yLogging = fp(o11yLoggingPlugin, { fastify: '5.x', name: PLUGIN_NAME })
