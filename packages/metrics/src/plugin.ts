import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, type Registry } from 'prom-client'
import { BusinessMetrics } from './business'
import { ERROR_SOURCES, LABEL_VALUES, LABELS, METRIC_NAMES, PLUGIN_NAME, type ErrorSource } from './constants'
import { createScraper, type ScrapeResponse } from './endpoint'
import { metricsError } from './errors'
import { render, type ExpositionFormat } from './exposition'
import { resolveOptions, type ResolvedOptions } from './options'
import { createRouteState, RequestMetrics, type RouteState } from './request-metrics'
import { addRuntimeMetrics } from './runtime'
import type { LabelsFunction, MetricsApi, O11yMetricsOptions, RouteMetricsConfig } from './types'

declare module 'fastify' {
  interface FastifyInstance {
    /** Registry, metric factories and `track` of @o11y/metrics. */
    metrics: MetricsApi
  }
  interface FastifyContextConfig {
    /** `false` leaves the route out of the request metrics; `{ labels }` sets its label function. */
    metrics?: boolean | RouteMetricsConfig
  }
}

const kRouteState = Symbol('o11y.metrics.route')
const kState = Symbol('o11y.metrics.state')
const kInFlight = Symbol('o11y.metrics.inFlight')
const kError = Symbol('o11y.metrics.error')

interface MetricsRequest extends FastifyRequest {
  [kState]: RouteState | null
  [kInFlight]: boolean
  [kError]: string | null
}

/** Label value for an error: its string `code` when it has one (FST_ERR_VALIDATION, 23505), else its class name. */
export function exceptionName (error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code !== '') return code.slice(0, 64)
    const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name
    if (typeof ctor === 'string' && ctor !== '' && ctor !== 'Object') return ctor
    const name = (error as { name?: unknown }).name
    if (typeof name === 'string' && name !== '') return name.slice(0, 64)
  }
  return 'Error'
}

function routeConfigOf (value: unknown, url: string): { skip: boolean, labels: LabelsFunction | null } {
  if (value === undefined || value === true) return { skip: false, labels: null }
  if (value === false) return { skip: true, labels: null }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const labels = (value as RouteMetricsConfig).labels
    if (labels === undefined) return { skip: false, labels: null }
    if (typeof labels === 'function') return { skip: false, labels }
  }
  throw metricsError('O11Y_ERR_METRICS_ROUTE_CONFIG', `route ${url}`)
}

async function o11yMetricsPlugin (fastify: FastifyInstance, options: O11yMetricsOptions): Promise<void> {
  const opts: ResolvedOptions = resolveOptions(options)
  const registry: Registry = opts.registry
  const log = fastify.log
  const added: string[] = []

  function addMetric (metric: unknown): void {
    const name = (metric as { name: string }).name
    if (registry.getSingleMetric(name) !== undefined) {
      throw metricsError('O11Y_ERR_METRICS_REGISTRY_CONFLICT', `"${name}"`)
    }
    registry.registerMetric(metric as Parameters<Registry['registerMetric']>[0])
    added.push(name)
  }

  const errorsTotal = new Counter({
    name: METRIC_NAMES.errorsTotal,
    help: 'Failures inside telemetry (label functions, custom metrics, collectors, exemplars) that were contained, by source.',
    labelNames: [LABELS.source],
    registers: []
  })
  for (const source of ERROR_SOURCES) errorsTotal.inc({ [LABELS.source]: source }, 0)
  const overflowTotal = new Counter({
    name: METRIC_NAMES.overflowTotal,
    help: 'Observations sent to the overflow series because a metric reached maxLabelSets label sets, by metric.',
    labelNames: [LABELS.metric],
    registers: []
  })

  const logged = new Set<string>()
  /** Counted every time, logged once per source and key so a broken label function cannot flood the log. */
  function reportError (source: ErrorSource, key: string, err: unknown): void {
    errorsTotal.inc({ [LABELS.source]: source })
    const id = `${source}\u0000${key}`
    if (logged.has(id)) return
    logged.add(id)
    log.warn({ err, source, key }, `${PLUGIN_NAME}: ${source} failed for "${key}"; counted in ${METRIC_NAMES.errorsTotal}, logged once`)
  }
  const overflowLabels = new Map<string, Record<string, string>>()
  function onOverflow (metric: string): void {
    let labels = overflowLabels.get(metric)
    if (labels === undefined) {
      labels = { [LABELS.metric]: metric }
      overflowLabels.set(metric, labels)
      log.warn({ metric, maxLabelSets: opts.maxLabelSets }, `${PLUGIN_NAME}: "${metric}" reached maxLabelSets; new label sets go to the ${LABEL_VALUES.overflow} series`)
    }
    overflowTotal.inc(labels)
  }

  const red = new RequestMetrics({
    naming: opts.naming,
    buckets: opts.buckets,
    maxLabelSets: opts.maxLabelSets,
    labelNames: opts.labelNames,
    exemplars: opts.exemplars,
    onOverflow,
    onLabelError: (route, err) => reportError('label_function', route, err),
    onExemplarError: (err) => reportError('exemplar', 'active span', err)
  })
  for (const m of red.metrics) addMetric(m)
  addMetric(errorsTotal)
  addMetric(overflowTotal)
  if (opts.runtimeMetrics) added.push(...addRuntimeMetrics(registry))

  const business = new BusinessMetrics(registry, opts.prefix, reportError)
  const onBadValue = (metric: string, detail: string): void => reportError('metric', metric, new TypeError(`${metric}: ${detail}`))
  const onScrapeError = (err: unknown): void => {
    errorsTotal.inc({ [LABELS.source]: 'collector' })
    log.error({ err }, `${PLUGIN_NAME}: collecting metrics failed, answered 500`)
  }
  let server: Server | null = null

  const api: MetricsApi = {
    registry,
    counter: (config) => business.create('counter', config),
    gauge: (config) => business.create('gauge', config),
    histogram: (config) => business.create('histogram', config),
    track: (name, fn) => business.track(name, fn),
    render: (format: ExpositionFormat = 'prometheus') => render(registry, format, onBadValue),
    address: () => (server !== null && server.listening ? server.address() as AddressInfo : null)
  }
  fastify.decorate('metrics', api)

  // --- request metrics -------------------------------------------------------------------------
  const unmatched = createRouteState(LABEL_VALUES.unmatched, false, opts.labels)
  const lateRoutes = new WeakMap<object, RouteState>()

  function stateFor (url: string, config: unknown): RouteState {
    const rc = routeConfigOf((config as { metrics?: unknown } | undefined)?.metrics, url)
    const excluded = opts.excludeExact.has(url) || opts.excludePatterns.some((re) => re.test(url))
    return createRouteState(url, rc.skip || excluded, rc.labels ?? opts.labels)
  }

  fastify.addHook('onRoute', function o11yMetricsOnRoute (route: RouteOptions) {
    // Label values, opt-out and label function are settled here, once per route. Fastify copies
    // `config` into the route context, so the state travels with it to every request.
    const state = stateFor(route.url, route.config)
    route.config = { ...route.config, [kRouteState]: state } as RouteOptions['config']
  })

  /** Routes registered before this plugin have no state yet: build it on their first request. */
  function lateState (request: FastifyRequest, config: object | undefined): RouteState {
    if (request.is404 || config === undefined) return unmatched
    let state = lateRoutes.get(config)
    if (state === undefined) {
      state = stateFor(request.routeOptions.url as string, config)
      lateRoutes.set(config, state)
    }
    return state
  }

  fastify.decorateRequest(kState, null)
  fastify.decorateRequest(kInFlight, false)
  fastify.decorateRequest(kError, null)

  fastify.addHook('onRequest', function o11yMetricsOnRequest (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const config = request.routeOptions.config as unknown as Record<symbol, RouteState | undefined> | undefined
    const state = config?.[kRouteState] ?? lateState(request, config)
    if (!state.skip) {
      const r = request as MetricsRequest
      r[kState] = state
      r[kInFlight] = true
      red.inFlight++
    }
    done()
  })

  fastify.addHook('onError', function o11yMetricsOnError (request: FastifyRequest, _reply: FastifyReply, error: unknown, done: HookHandlerDoneFunction) {
    const r = request as MetricsRequest
    const state = r[kState]
    if (state !== null) {
      try {
        const name = exceptionName(error)
        if (red.otel) r[kError] = name
        else red.recordException(state, request.method, name)
      } catch (err) {
        reportError('metric', METRIC_NAMES.exceptionsTotal, err)
      }
    }
    done()
  })

  fastify.addHook('onResponse', function o11yMetricsOnResponse (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const r = request as MetricsRequest
    if (r[kInFlight]) {
      r[kInFlight] = false
      red.inFlight--
    }
    const state = r[kState]
    if (state !== null) {
      r[kState] = null
      try {
        red.record(state, request, reply, r[kError])
      } catch (err) {
        reportError('metric', red.otel ? 'http_server_request_duration_seconds' : METRIC_NAMES.requestsTotal, err)
      }
    }
    done()
  })

  // A client that hangs up before the response never reaches onResponse: keep the gauge honest.
  fastify.addHook('onRequestAbort', function o11yMetricsOnRequestAbort (request: FastifyRequest, done: HookHandlerDoneFunction) {
    const r = request as MetricsRequest
    if (r[kInFlight]) {
      r[kInFlight] = false
      red.inFlight--
    }
    done()
  })

  // --- the scrape endpoint -------------------------------------------------------------------
  const endpoint = opts.endpoint
  if (endpoint !== null) {
    const scrape = createScraper({ registry, auth: endpoint.auth, timeoutMs: endpoint.timeoutMs, onBadValue, onScrapeError })
    if (endpoint.port === null) {
      // o11y-gate-ignore route-instrumented: the scrape endpoint is the instrumentation; its failures are logged and counted by createScraper
      fastify.route({
        method: 'GET',
        url: endpoint.path,
        handler: async function o11yMetricsScrape (request, reply) {
          const res = await scrape(request.headers)
          return reply.code(res.status).headers(res.headers).send(res.body)
        }
      })
    } else {
      const { path, port, host } = endpoint
      fastify.addHook('onReady', async function o11yMetricsListen () {
        const srv = createServer(function o11yMetricsServer (req: IncomingMessage, res: ServerResponse) {
          const url = req.url ?? '/'
          const q = url.indexOf('?')
          const pathname = q < 0 ? url : url.slice(0, q)
          if (pathname !== path || (req.method !== 'GET' && req.method !== 'HEAD')) {
            res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n')
            return
          }
          scrape(req.headers).then((out: ScrapeResponse) => {
            res.writeHead(out.status, out.headers).end(req.method === 'HEAD' ? undefined : out.body)
          }, /* c8 ignore next */ (err: unknown) => {
            onScrapeError(err)
            res.writeHead(500).end()
          })
        })
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject)
          srv.listen(port, host, () => {
            srv.off('error', reject)
            resolve()
          })
        })
        server = srv
        log.info({ address: srv.address() }, `${PLUGIN_NAME}: metrics served on a separate port`)
      })
    }
  }

  fastify.addHook('onClose', async function o11yMetricsClose () {
    if (server !== null) {
      const srv = server
      server = null
      await new Promise<void>((resolve) => {
        srv.close(() => resolve())
        srv.closeAllConnections()
      })
    }
    if (opts.ownRegistry) registry.clear()
    else for (const name of added) registry.removeSingleMetric(name)
  })
}

/** The Fastify plugin: RED metrics per route, /metrics with exemplars, runtime and business metrics. */
export const o11yMetrics = fp(o11yMetricsPlugin, { fastify: '5.x', name: PLUGIN_NAME })
