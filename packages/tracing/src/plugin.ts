import {
  context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span, type Tracer, type TracerProvider
} from '@opentelemetry/api'
import { RPCType, setRPCMetadata, suppressTracing } from '@opentelemetry/core'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import {
  ATTR, DEFAULT_IGNORE_ROUTES, DEFAULTS, ERROR_CODES, ERROR_TYPE_ABORTED, KNOWN_METHODS, OTHER_METHOD, PLUGIN_NAME, TRACER_NAME
} from './constants'
import { processWarningLogger } from './errors'
import { validatePluginOptions } from './options'
import { VERSION } from './version'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` turns tracing off for this route (no SERVER span, no Fastify or child spans). */
    tracing?: boolean
  }
}

export interface O11yTracingOptions {
  /**
   * Routes (templates, e.g. `/metrics`) that get no spans at all, or a function deciding it.
   * Default: /metrics and the usual health routes (see README).
   */
  ignoreRoutes?: readonly string[] | ((route: string, method: string) => boolean)
  /** Fastify request and handler spans through @fastify/otel (default true). */
  lifecycleSpans?: boolean
  /** One span per Fastify hook through @fastify/otel (default false: they cost time and say little). */
  hookSpans?: boolean
}

interface State {
  ignore: (route: string, method: string) => boolean
  lifecycleSpans: boolean
  hookSpans: boolean
}

interface RouteInfo {
  traced: boolean
  route: string | undefined
}

interface RequestTrace {
  span: Span
  ctx: Context
  ended: boolean
  error: FastifyError | undefined
}

const kState = Symbol('o11y.tracing.state')
const kRequest = Symbol('o11y.tracing.request')
const kRoute = Symbol('o11y.tracing.route')

type Instance = FastifyInstance & { [kState]?: State }
type TracedRequest = FastifyRequest & { [kRequest]: RequestTrace | null }
type RouteConfig = Record<string | symbol, unknown> & { [kRoute]?: RouteInfo }

function toState (options: O11yTracingOptions): State {
  const ignoreRoutes = options.ignoreRoutes ?? DEFAULT_IGNORE_ROUTES
  let ignore: State['ignore']
  if (typeof ignoreRoutes === 'function') {
    const userIgnore = ignoreRoutes
    let warned = false
    ignore = (route, method) => {
      try {
        return userIgnore(route, method) === true
      } catch (err) {
        // A broken user callback must not break the request: the route stays traced, and the
        // failure is reported once per registration.
        if (!warned) {
          warned = true
          processWarningLogger.warn(`ignoreRoutes threw for ${method} ${route} (${err instanceof Error ? err.message : String(err)}); the route is traced`, ERROR_CODES.IGNORE_ROUTES_FAILED)
        }
        return false
      }
    }
  } else {
    const set = new Set(ignoreRoutes)
    ignore = (route) => set.has(route)
  }
  return { ignore, lifecycleSpans: options.lifecycleSpans ?? true, hookSpans: options.hookSpans ?? false }
}

let cachedProvider: TracerProvider | undefined
let cachedTracer: Tracer | undefined
/** The tracer of the current global provider (tests swap providers, so never cache it for good). */
export function currentTracer (): Tracer {
  const provider = trace.getTracerProvider()
  if (provider !== cachedProvider || cachedTracer === undefined) {
    cachedProvider = provider
    cachedTracer = provider.getTracer(TRACER_NAME, VERSION)
  }
  return cachedTracer
}

/**
 * Install the hooks on `instance` (once per instance). Called by the plugin and, when tracing was
 * started with startTracing()/the register entry, for every Fastify instance at construction, so
 * our onRequest hook runs before every other plugin's hooks and their hooks see the span.
 */
export function installTracing (instance: FastifyInstance, options: O11yTracingOptions): void {
  const app = instance as Instance
  const existing = app[kState]
  if (existing !== undefined) {
    // Already installed (at construction, by startTracing): the explicit registration refines it.
    const next = toState(options)
    if (options.ignoreRoutes !== undefined) existing.ignore = next.ignore
    if ((options.lifecycleSpans !== undefined && options.lifecycleSpans !== existing.lifecycleSpans) ||
        (options.hookSpans !== undefined && options.hookSpans !== existing.hookSpans)) {
      processWarningLogger.warn('lifecycleSpans and hookSpans are fixed when startTracing() instruments the instance; pass them in startTracing({ fastify: { ... } }) instead', ERROR_CODES.PLUGIN_OPTION_IGNORED)
    }
    return
  }
  const state = toState(options)
  app.decorate(kState, state)
  app.decorateRequest(kRequest, null)

  const routeInfo = (request: FastifyRequest): RouteInfo => {
    const config = request.routeOptions.config as unknown as RouteConfig | undefined
    const cached = config?.[kRoute]
    if (cached !== undefined) return cached
    const route = request.routeOptions.url
    const info: RouteInfo = {
      traced: config?.tracing !== false && (route === undefined || !state.ignore(route, request.method)),
      route
    }
    if (config !== undefined) config[kRoute] = info
    return info
  }

  app.addHook('onRoute', function o11yTracingRoute (routeOptions) {
    const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method]
    const untraced = routeOptions.config?.tracing === false || methods.every((m) => state.ignore(routeOptions.url, m))
    // Tell @fastify/otel too, so untraced routes get no lifecycle spans either.
    if (untraced) routeOptions.config = { ...routeOptions.config, otel: false }
  })

  app.addHook('onRequest', function o11yTracingStart (request, _reply, done) {
    const info = routeInfo(request)
    if (!info.traced) {
      context.with(suppressTracing(ROOT_CONTEXT), done)
      return
    }
    const rawMethod = request.method
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : OTHER_METHOD
    const headers = request.headers
    const url = request.url
    const query = url.indexOf('?')
    const attributes: Attributes = {
      [ATTR.HTTP_REQUEST_METHOD]: method,
      [ATTR.URL_PATH]: query === -1 ? url : url.slice(0, query),
      [ATTR.URL_SCHEME]: (request.raw.socket as { encrypted?: boolean } | null)?.encrypted === true ? 'https' : 'http',
      [ATTR.NETWORK_PROTOCOL_VERSION]: request.raw.httpVersion,
      [ATTR.REQUEST_ID]: request.id
    }
    if (method === OTHER_METHOD) attributes[ATTR.HTTP_REQUEST_METHOD_ORIGINAL] = rawMethod
    if (info.route !== undefined) attributes[ATTR.HTTP_ROUTE] = info.route
    const host = headers.host
    if (host !== undefined) setServerAddress(attributes, host)
    const userAgent = headers['user-agent']
    if (userAgent !== undefined) attributes[ATTR.USER_AGENT_ORIGINAL] = userAgent
    const clientAddress = request.ip
    if (clientAddress !== undefined) attributes[ATTR.CLIENT_ADDRESS] = clientAddress

    const parent = extractParent(headers)
    const span = currentTracer().startSpan(
      info.route === undefined ? (method === OTHER_METHOD ? 'HTTP' : method) : `${method} ${info.route}`,
      { kind: SpanKind.SERVER, attributes },
      parent
    )
    // RPC metadata marks the request as already having a SERVER span, so @fastify/otel makes
    // its `request` span INTERNAL instead of a second SERVER span.
    const spanCtx = trace.setSpan(parent, span)
    const ctx = state.lifecycleSpans ? setRPCMetadata(spanCtx, { type: RPCType.HTTP, span }) : spanCtx
    ;(request as TracedRequest)[kRequest] = { span, ctx, ended: false, error: undefined }
    context.with(ctx, done)
  })

  app.addHook('onError', function o11yTracingError (request, _reply, error, done) {
    const rt = (request as TracedRequest)[kRequest]
    if (rt !== null && !rt.ended) {
      rt.error = error
      rt.span.recordException(error)
    }
    done()
  })

  app.addHook('onResponse', function o11yTracingEnd (request, reply, done) {
    const rt = (request as TracedRequest)[kRequest]
    if (rt === null) {
      done()
      return
    }
    endSpan(rt, reply)
    // Later onResponse hooks (request logging, metrics exemplars) run with the request's span active.
    context.with(rt.ctx, done)
  })

  app.addHook('onRequestAbort', function o11yTracingAbort (request, done) {
    const rt = (request as TracedRequest)[kRequest]
    if (rt !== null && !rt.ended) {
      rt.ended = true
      rt.span.setAttribute(ATTR.ERROR_TYPE, ERROR_TYPE_ABORTED)
      rt.span.end()
    }
    done()
  })

  if (state.lifecycleSpans) {
    const lifecycle = new FastifyOtelInstrumentation({ instrumentHooks: state.hookSpans, recordExceptions: false })
    // Applied directly (not through register) so its hooks are added right after ours, on this instance.
    const plugin = lifecycle.plugin() as unknown as (i: FastifyInstance, o: object, done: () => void) => void
    plugin(instance, {}, () => {})
  }

  app.addHook('onClose', function o11yTracingFlush (_instance, done) {
    flushGlobalProvider().then(() => done(), () => done())
  })

}

function endSpan (rt: RequestTrace, reply: FastifyReply): void {
  if (rt.ended) return
  rt.ended = true
  const status = reply.statusCode
  const span = rt.span
  span.setAttribute(ATTR.HTTP_RESPONSE_STATUS_CODE, status)
  if (status >= 500) {
    const error = rt.error
    span.setAttribute(ATTR.ERROR_TYPE, error === undefined ? String(status) : (error.code ?? error.name))
    span.setStatus(error === undefined ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.ERROR, message: error.message })
  }
  span.end()
}

function setServerAddress (attributes: Attributes, host: string): void {
  // Host header: `name`, `name:port`, `[v6]` or `[v6]:port`.
  const close = host.lastIndexOf(']')
  const colon = host.lastIndexOf(':')
  if (colon > close) {
    attributes[ATTR.SERVER_ADDRESS] = host.slice(0, colon)
    const port = Number(host.slice(colon + 1))
    if (Number.isInteger(port) && port > 0) attributes[ATTR.SERVER_PORT] = port
  } else {
    attributes[ATTR.SERVER_ADDRESS] = host
  }
}

/**
 * W3C context of the caller. A header that cannot be a traceparent (too long, repeated) is
 * ignored without parsing; the propagator rejects the rest of the malformed ones (bad version,
 * all-zero ids, wrong lengths), and the request then starts a new root trace.
 */
function extractParent (headers: FastifyRequest['headers']): Context {
  const traceparent = headers.traceparent
  if (traceparent === undefined && headers.baggage === undefined) return ROOT_CONTEXT
  if (traceparent !== undefined && (typeof traceparent !== 'string' || traceparent.length > DEFAULTS.maxTraceparentLength)) return ROOT_CONTEXT
  return propagation.extract(ROOT_CONTEXT, headers)
}

async function flushGlobalProvider (): Promise<void> {
  // Tracing started by startTracing/the register entry knows its own bound.
  const active = (globalThis as { [k: symbol]: { forceFlush?: () => Promise<void> } | undefined })[Symbol.for('o11y.tracing.active')]
  if (active?.forceFlush !== undefined) return active.forceFlush()
  const proxy = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider }
  const provider = (proxy.getDelegate?.() ?? proxy) as TracerProvider & { forceFlush?: () => Promise<void> }
  if (typeof provider.forceFlush !== 'function') return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    provider.forceFlush().catch(() => {}),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, DEFAULTS.shutdownTimeoutMillis); timer.unref() })
  ])
  clearTimeout(timer)
}

const plugin: FastifyPluginCallback<O11yTracingOptions> = function o11yTracingPlugin (instance, options, done) {
  try {
    validatePluginOptions(options)
  } catch (err) {
    done(err as Error)
    return
  }
  installTracing(instance, options)
  done()
}

/** The Fastify plugin: a SERVER span per request, Fastify lifecycle spans, exceptions, opt-outs. */
export const o11yTracing = fp(plugin, { fastify: '5.x', name: PLUGIN_NAME })
export default o11yTracing
