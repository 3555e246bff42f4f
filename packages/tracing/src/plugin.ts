import {
  context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Link, type Span, type Tracer, type TracerProvider
} from '@opentelemetry/api'
import { RPCType, setRPCMetadata, suppressTracing } from '@opentelemetry/core'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import { getActiveTracing } from './active'
import {
  ATTR, DEFAULT_IGNORE_ROUTES, DEFAULTS, ENV, ERROR_TYPE_ABORTED, KNOWN_METHODS, LINK_ATTR, OTHER_METHOD, PLUGIN_NAME, TRACER_NAME
} from './constants'
import { ERROR_CODES, processWarningLogger } from './errors'
import { validatePluginOptions } from './options'
import { isDatabaseError, withheldDatabaseError } from './sanitize'
import type { O11yTracingOptions } from './types'
import type { ServerSpanAttributeGroup } from './constants'
import { VERSION } from './version'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` turns tracing off for this route (no SERVER span, no Fastify or child spans). */
    tracing?: boolean
  }
}

interface State {
  ignore: (route: string, method: string) => boolean
  lifecycleSpans: boolean
  hookSpans: boolean
  trust: (request: FastifyRequest) => boolean
  requestHook: ((span: Span, request: FastifyRequest) => void) | undefined
  responseHook: ((span: Span, request: FastifyRequest, reply: FastifyReply) => void) | undefined
  /** The `serverSpanAttributes` groups as bits of GROUP_BITS. */
  attributes: number
}

/** One bit per optional attribute group: a request tests bits, not strings. */
const GROUP_BITS: Readonly<Record<ServerSpanAttributeGroup, number>> = {
  serverAddress: 1,
  clientAddress: 2,
  clientPort: 4,
  userAgent: 8,
  protocolVersion: 16,
  requestId: 32
}

function groupBits (groups: readonly ServerSpanAttributeGroup[]): number {
  let bits = 0
  for (const group of groups) bits |= GROUP_BITS[group]
  return bits
}

/** Decided once per route, in onRoute. */
interface RouteInfo {
  /** Methods of this route that get no spans (all of them when the route is opted out). */
  untraced: ReadonlySet<string> | true
  route: string
  /** Span name per method of the route (`GET /api/orders/:id`), built here rather than per request. */
  names: ReadonlyMap<string, string>
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
  const hookSpans = options.hookSpans ?? false
  return {
    ignore,
    lifecycleSpans: options.lifecycleSpans ?? hookSpans,
    hookSpans,
    trust: trustPredicate(options.trustIncomingContext),
    requestHook: options.requestHook,
    responseHook: options.responseHook,
    attributes: groupBits(options.serverSpanAttributes ?? DEFAULTS.serverSpanAttributes)
  }
}

let hookErrors = 0
/** How many user hook calls threw (requestHook, responseHook, trustIncomingContext). */
export function hookErrorCount (): number {
  return hookErrors
}

/** A user callback that cannot break a request: a throw is caught, counted and warned once. */
function guard<A extends unknown[], R> (fn: (...args: A) => R, name: string, fallback: R): (...args: A) => R {
  let warned = false
  return (...args) => {
    try {
      return fn(...args)
    } catch (err) {
      hookErrors++
      if (!warned) {
        warned = true
        processWarningLogger.warn(`${name} threw (${err instanceof Error ? err.message : String(err)}); the request goes on (further failures are counted in stats().hookErrors, not warned)`, ERROR_CODES.HOOK_FAILED)
      }
      return fallback
    }
  }
}

function trustPredicate (option: O11yTracingOptions['trustIncomingContext']): (request: FastifyRequest) => boolean {
  if (typeof option === 'function') return guard(option, 'trustIncomingContext', false)
  const fromEnv = process.env[ENV.TRUST_INCOMING_CONTEXT]?.trim().toLowerCase()
  const trusted = option ?? (fromEnv === 'false' ? false : true)
  if (option === undefined && fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'true' && fromEnv !== 'false') {
    processWarningLogger.warn(`${ENV.TRUST_INCOMING_CONTEXT}=${JSON.stringify(fromEnv)} is not valid (expected true or false); using true`, ERROR_CODES.INVALID_ENV)
  }
  return () => trusted
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
    if (options.trustIncomingContext !== undefined) existing.trust = next.trust
    if (options.serverSpanAttributes !== undefined) existing.attributes = next.attributes
    if (options.requestHook !== undefined) existing.requestHook = guard(options.requestHook, 'requestHook', undefined)
    if (options.responseHook !== undefined) existing.responseHook = guard(options.responseHook, 'responseHook', undefined)
    if ((options.lifecycleSpans !== undefined && options.lifecycleSpans !== existing.lifecycleSpans) ||
        (options.hookSpans !== undefined && options.hookSpans !== existing.hookSpans)) {
      processWarningLogger.warn('lifecycleSpans and hookSpans are fixed when startTracing() instruments the instance; pass them in startTracing({ fastify: { ... } }) instead', ERROR_CODES.PLUGIN_OPTION_IGNORED)
    }
    return
  }
  const state = toState(options)
  if (state.requestHook !== undefined) state.requestHook = guard(state.requestHook, 'requestHook', undefined)
  if (state.responseHook !== undefined) state.responseHook = guard(state.responseHook, 'responseHook', undefined)
  app.decorate(kState, state)
  app.decorateRequest(kRequest, null)

  app.addHook('onRoute', function o11yTracingRoute (routeOptions) {
    const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method]
    const optedOut = routeOptions.config?.tracing === false
    const ignored = new Set(optedOut ? methods : methods.filter((m) => state.ignore(routeOptions.url, m)))
    const info: RouteInfo = { untraced: optedOut || ignored.size === methods.length ? true : ignored, route: routeOptions.url, names: spanNames(methods, routeOptions.url) }
    // Tell @fastify/otel too, so untraced routes get no lifecycle spans either.
    routeOptions.config = { ...routeOptions.config, [kRoute]: info, ...(info.untraced === true ? { otel: false } : {}) } as typeof routeOptions.config
  })

  app.addHook('onRequest', function o11yTracingStart (request, _reply, done) {
    const config = request.routeOptions.config as unknown as RouteConfig | undefined
    const info = config?.[kRoute] ?? lateRouteInfo(request, config, state)
    const rawMethod = request.method
    if (info !== undefined && (info.untraced === true || info.untraced.has(rawMethod))) {
      context.with(SUPPRESSED, done)
      return
    }
    const route = info?.route
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : OTHER_METHOD
    const headers = request.headers
    const url = request.url
    const query = url.indexOf('?')
    const socket = request.raw.socket as (FastifyRequest['socket'] & { encrypted?: boolean }) | null
    const attributes: Attributes = {
      [ATTR.HTTP_REQUEST_METHOD]: method,
      [ATTR.URL_PATH]: query === -1 ? url : url.slice(0, query),
      [ATTR.URL_SCHEME]: socket?.encrypted === true ? 'https' : 'http'
    }
    if (method === OTHER_METHOD) attributes[ATTR.HTTP_REQUEST_METHOD_ORIGINAL] = rawMethod
    if (route !== undefined) attributes[ATTR.HTTP_ROUTE] = route
    // Every attribute is checked by the SDK when the span starts (a visible share of the span's
    // cost), so the optional ones are set only when asked for.
    const groups = state.attributes
    if ((groups & GROUP_BITS.serverAddress) !== 0) {
      const host = headers.host
      if (host !== undefined) setServerAddress(attributes, host)
    }
    if ((groups & GROUP_BITS.clientAddress) !== 0) {
      const clientAddress = request.ip
      if (clientAddress !== undefined) attributes[ATTR.CLIENT_ADDRESS] = clientAddress
    }
    if ((groups & GROUP_BITS.clientPort) !== 0) {
      const clientPort = socket?.remotePort
      if (clientPort !== undefined) attributes[ATTR.CLIENT_PORT] = clientPort
    }
    if ((groups & GROUP_BITS.userAgent) !== 0) {
      const userAgent = headers['user-agent']
      if (userAgent !== undefined) attributes[ATTR.USER_AGENT_ORIGINAL] = userAgent
    }
    if ((groups & GROUP_BITS.protocolVersion) !== 0) attributes[ATTR.NETWORK_PROTOCOL_VERSION] = request.raw.httpVersion
    if ((groups & GROUP_BITS.requestId) !== 0) attributes[ATTR.REQUEST_ID] = request.id

    let parent = extractParent(headers)
    let links: Link[] | undefined
    if (parent !== ROOT_CONTEXT && !state.trust(request)) {
      // Untrusted caller: its context must not decide our sampling (a sampled flag would force
      // 100%) nor our trace id (crafted ids beat ratio samplers). Keep it findable as a link.
      const remote = trace.getSpanContext(parent)
      if (remote !== undefined) links = [{ context: remote, attributes: { [LINK_ATTR.UNTRUSTED_PARENT]: true } }]
      parent = ROOT_CONTEXT
    }
    const span = currentTracer().startSpan(
      info?.names.get(rawMethod) ?? spanName(method, route),
      links === undefined ? { kind: SpanKind.SERVER, attributes } : { kind: SpanKind.SERVER, attributes, links },
      parent
    )
    state.requestHook?.(span, request)
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
      rt.span.recordException(!dbErrorDetail() && isDatabaseError(error) ? withheldDatabaseError(error) : error)
    }
    done()
  })

  app.addHook('onResponse', function o11yTracingEnd (request, reply, done) {
    const rt = (request as TracedRequest)[kRequest]
    if (rt === null) {
      done()
      return
    }
    if (!rt.ended) state.responseHook?.(rt.span, request, reply)
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
    // Loaded only when asked for: @fastify/otel and its OpenTelemetry line cost start-up time.
    const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel')
    const lifecycle = new FastifyOtelInstrumentation({ instrumentHooks: state.hookSpans, recordExceptions: false })
    // Applied directly (not through register) so its hooks are added right after ours, on this instance.
    const plugin = lifecycle.plugin() as unknown as (i: FastifyInstance, o: object, done: () => void) => void
    plugin(instance, {}, () => {})
  }

  app.addHook('onClose', function o11yTracingFlush (_instance, done) {
    flushGlobalProvider().then(() => done(), () => done())
  })

}

/** The context of an untraced request: made once, not per request. */
const SUPPRESSED = suppressTracing(ROOT_CONTEXT)

/** `{method} {route}`; the method alone for unmatched routes, `HTTP` for unknown methods there. */
function spanName (method: string, route: string | undefined): string {
  return route === undefined ? (method === OTHER_METHOD ? 'HTTP' : method) : `${method} ${route}`
}

function spanNames (methods: readonly string[], route: string): ReadonlyMap<string, string> {
  return new Map(methods.map((m) => [m, spanName(KNOWN_METHODS.has(m) ? m : OTHER_METHOD, route)]))
}

const NONE: ReadonlySet<string> = new Set()
const NO_NAMES: ReadonlyMap<string, string> = new Map()
/** A route added before the plugin (onRoute did not see it): decided per request. */
function lateRouteInfo (request: FastifyRequest, config: RouteConfig | undefined, state: State): RouteInfo | undefined {
  const route = request.routeOptions.url
  if (route === undefined) return undefined
  return { untraced: config?.tracing === false || state.ignore(route, request.method) ? true : NONE, route, names: NO_NAMES }
}

/** Set by startTracing({ dbErrorDetail }); without it, database error text never reaches a span. */
function dbErrorDetail (): boolean {
  return getActiveTracing()?.settings?.dbErrorDetail === true
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
    span.setStatus(error === undefined
      ? { code: SpanStatusCode.ERROR }
      : { code: SpanStatusCode.ERROR, message: !dbErrorDetail() && isDatabaseError(error) ? withheldDatabaseError(error).message : error.message })
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
  if (traceparent !== undefined) {
    if (typeof traceparent !== 'string' || traceparent.length > DEFAULTS.maxTraceparentLength) return ROOT_CONTEXT
    return propagation.extract(ROOT_CONTEXT, headers)
  }
  // No W3C header: only extract when a header of the configured propagators is there (baggage,
  // or b3 / x-b3-* with OTEL_PROPAGATORS=b3), so most requests skip the propagator entirely.
  for (const field of propagatorFields()) {
    if (headers[field] !== undefined) return propagation.extract(ROOT_CONTEXT, headers)
  }
  return ROOT_CONTEXT
}

let fieldsOf: unknown
let fields: readonly string[] = []
/** The header names the global propagator reads, other than traceparent; cached per propagator. */
function propagatorFields (): readonly string[] {
  const current = (propagation as unknown as { _getGlobalPropagator (): unknown })._getGlobalPropagator()
  if (current !== fieldsOf) {
    fieldsOf = current
    fields = propagation.fields().map((f) => f.toLowerCase()).filter((f) => f !== 'traceparent' && f !== 'tracestate')
  }
  return fields
}

async function flushGlobalProvider (): Promise<void> {
  // Tracing started by startTracing/the register entry knows its own bound.
  const active = getActiveTracing()
  if (active !== undefined) return active.forceFlush()
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
