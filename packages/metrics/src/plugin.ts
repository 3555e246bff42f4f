import cluster from 'node:cluster'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, type Registry } from 'prom-client'
import { BusinessMetrics } from './business'
import { attachClusterWorker, CLUSTER_NOT_WORKER_WARNING, type ClusterWorkerLink } from './cluster'
import { DEFAULT_SCRAPE_TIMEOUT_MS, ERROR_SOURCES, LABEL_VALUES, LABELS, METRIC_NAMES, OTEL_METRIC_NAMES, PLUGIN_NAME, SCRAPE_RESULTS, type ErrorSource, type ScrapeResult } from './constants'
import { createScraper, type ScrapeResponse } from './endpoint'
import { metricsError, warnOnce, WARNING_CODES } from './errors'
import { render, type ExpositionFormat } from './exposition'
import { isObject, rejectUnknownKeys, RESERVED_LABELS, resolveOptions, validBuckets, type ResolvedOptions } from './options'
import { createRouteState, RequestMetrics, type RouteSettings, type RouteState } from './request-metrics'
import { addRuntimeMetrics } from './runtime'
import { resolveOtlp, startOtlpPush, type OtlpPush, type OtlpWarning } from './otlp'
import type { LabelsFunction, MetricsApi, O11yMetricsOptions, RouteMetricsConfig } from './types'

declare module 'fastify' {
  interface FastifyInstance {
    /** Registry, metric factories and `track` of @o11y/metrics. */
    metrics: MetricsApi
  }
  interface FastifyContextConfig {
    /** `false` leaves the route out of the request metrics; `{ labels, buckets }` sets its labels and buckets. */
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

const ROUTE_CONFIG_KEYS = ['labels', 'buckets'] as const

/**
 * A route's `config.metrics`, validated when the route is added (coded errors at registration,
 * never during a request). Static `labels` must name declared `labelNames`.
 */
function routeConfigOf (value: unknown, url: string, opts: ResolvedOptions): { skip: boolean, labelsFn: LabelsFunction | null, staticValues: string[] | null, bounds: readonly number[] } {
  const base = { skip: false, labelsFn: opts.labels, staticValues: null, bounds: opts.buckets }
  if (value === undefined || value === true) return base
  if (value === false) return { ...base, skip: true }
  if (!isObject(value)) throw metricsError('ROUTE_CONFIG', `route ${url}: got ${Array.isArray(value) ? 'an array' : typeof value}`)
  rejectUnknownKeys(value, ROUTE_CONFIG_KEYS, `route ${url}: config.metrics.`, 'ROUTE_CONFIG')
  const rc = value as RouteMetricsConfig
  let labelsFn = opts.labels
  let staticValues: string[] | null = null
  if (typeof rc.labels === 'function') {
    labelsFn = rc.labels
  } else if (isObject(rc.labels)) {
    staticValues = opts.labelNames.map(() => '')
    for (const [name, v] of Object.entries(rc.labels)) {
      const i = opts.labelNames.indexOf(name)
      if (i < 0) {
        const why = RESERVED_LABELS.has(name) ? 'is a built-in label of the request metrics' : 'is not declared in the `labelNames` option'
        throw metricsError('ROUTE_CONFIG', `route ${url}: label ${JSON.stringify(name)} ${why}`)
      }
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw metricsError('ROUTE_CONFIG', `route ${url}: label ${JSON.stringify(name)} must be a string, number or boolean, got ${v === null ? 'null' : typeof v}`)
      }
      staticValues[i] = String(v)
    }
  } else if (rc.labels !== undefined) {
    throw metricsError('ROUTE_CONFIG', `route ${url}: config.metrics.labels must be a function or an object of label values`)
  }
  let bounds: readonly number[] = opts.buckets
  if (rc.buckets !== undefined) {
    if (!validBuckets(rc.buckets)) throw metricsError('ROUTE_CONFIG', `route ${url}: config.metrics.buckets must be a non-empty array of finite, strictly increasing numbers, got ${JSON.stringify(rc.buckets)}`)
    bounds = [...rc.buckets]
  }
  return { skip: false, labelsFn, staticValues, bounds }
}

async function o11yMetricsPlugin (fastify: FastifyInstance, options: O11yMetricsOptions): Promise<void> {
  const opts: ResolvedOptions = resolveOptions(options)
  const otlpWarnings: OtlpWarning[] = []
  const otlpConfig = resolveOtlp(options?.otlp, process.env, otlpWarnings)
  const registry: Registry = opts.registry
  const log = fastify.log
  const added: string[] = []

  function addMetric (metric: unknown): void {
    const name = (metric as { name: string }).name
    if (registry.getSingleMetric(name) !== undefined) {
      throw metricsError('REGISTRY_CONFLICT', `"${name}"`)
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

  const scrapesTotal = new Counter({
    name: METRIC_NAMES.scrapesTotal,
    help: 'Scrapes of the metrics endpoint, by result: rendered (a new render), shared (joined a render in progress), cached (a render younger than endpoint.minIntervalMs), unauthorized, failed.',
    labelNames: [LABELS.result],
    registers: []
  })
  const scrapeLabels = {} as Record<ScrapeResult, Record<string, string>>
  for (const result of SCRAPE_RESULTS) {
    scrapeLabels[result] = { [LABELS.result]: result }
    scrapesTotal.inc(scrapeLabels[result], 0)
  }

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
  /** One guard for every metric: the request metrics and each `app.metrics.*` metric. */
  function onOverflow (metric: string, cap: number): void {
    let labels = overflowLabels.get(metric)
    if (labels === undefined) {
      labels = { [LABELS.metric]: metric }
      overflowLabels.set(metric, labels)
      log.warn({ metric, maxLabelSets: cap }, `${PLUGIN_NAME}: "${metric}" reached maxLabelSets (${cap}); new label sets go to the ${LABEL_VALUES.overflow} series`)
    }
    overflowTotal.inc(labels)
  }

  const red = new RequestMetrics({
    naming: opts.naming,
    statusCodes: opts.statusCodes,
    buckets: opts.buckets,
    maxLabelSets: opts.maxLabelSets,
    labelNames: opts.labelNames,
    exemplars: opts.exemplars,
    onOverflow: (metric) => onOverflow(metric, opts.maxLabelSets),
    onLabelError: (route, err) => reportError('label_function', route, err),
    onExemplarError: (err) => reportError('exemplar', 'active span', err)
  })
  for (const m of red.metrics) addMetric(m)
  addMetric(errorsTotal)
  addMetric(overflowTotal)
  if (opts.endpoint !== null) addMetric(scrapesTotal)
  if (opts.runtimeMetrics) added.push(...addRuntimeMetrics(registry))

  const business = new BusinessMetrics(registry, opts.prefix, reportError, opts.maxLabelSets, onOverflow)
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
  const unmatched = createRouteState({ route: LABEL_VALUES.unmatched, skip: false, labelsFn: opts.labels, bounds: opts.buckets })

  /** `ignoreRoutes` for one route template and method; a throwing user function means "record". */
  function ignored (url: string, method: string): boolean {
    const ig = opts.ignore
    if (ig.fn === null) return ig.exact.has(url) || ig.patterns.some((re) => re.test(url))
    try {
      return ig.fn(url, method) === true
    } catch (err) {
      warnOnce(WARNING_CODES.IGNORE_ROUTES_FAILED, url, `the ignoreRoutes function threw for ${method} ${url} (${err instanceof Error ? err.message : String(err)}); the route is recorded`)
      return false
    }
  }

  function settingsFor (route: RouteOptions): RouteSettings {
    const url = route.url
    const rc = routeConfigOf((route.config as { metrics?: unknown } | undefined)?.metrics, url, opts)
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const skipped = methods.filter((m) => ignored(url, m))
    const skip = rc.skip || (skipped.length > 0 && skipped.length === methods.length)
    const skipMethods = !skip && skipped.length > 0 ? new Set(skipped) : null
    return { route: url, skip, skipMethods, labelsFn: rc.labelsFn, staticValues: rc.staticValues, bounds: rc.bounds }
  }

  fastify.addHook('onRoute', function o11yMetricsOnRoute (route: RouteOptions) {
    // The one place a route's metrics are decided: opt-out, ignoreRoutes, labels and buckets are
    // settled here, once. Fastify copies `config` into the route context, so the state travels
    // with it to every request.
    const state = createRouteState(settingsFor(route))
    route.config = { ...route.config, [kRouteState]: state } as RouteOptions['config']
  })

  /** Routes registered before the plugin never passed our onRoute: said once per route, not recorded. */
  const unseen = new WeakSet<object>()
  function routeNotSeen (request: FastifyRequest, config: object | undefined): null {
    if (config !== undefined && !unseen.has(config)) {
      unseen.add(config)
      const route = String(request.routeOptions.url)
      log.warn({ code: WARNING_CODES.ROUTE_NOT_SEEN, route }, `${PLUGIN_NAME}: route ${route} was registered before the plugin and is not recorded; register ${PLUGIN_NAME} before your routes`)
    }
    return null
  }

  fastify.decorateRequest(kState, null)
  fastify.decorateRequest(kInFlight, false)
  fastify.decorateRequest(kError, null)

  fastify.addHook('onRequest', function o11yMetricsOnRequest (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const config = request.routeOptions.config as unknown as Record<symbol, RouteState | undefined> | undefined
    const state = config?.[kRouteState] ?? (request.is404 ? unmatched : routeNotSeen(request, config))
    if (state !== null && !state.skip && (state.skipMethods === null || !state.skipMethods.has(request.method))) {
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
        reportError('metric', red.otel ? OTEL_METRIC_NAMES.requestDuration : METRIC_NAMES.requestsTotal, err)
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

  // --- OTLP push mode (src/otlp.ts) ---------------------------------------------------------------
  for (const w of otlpWarnings) log.warn({ code: w.code }, w.message)
  let push: OtlpPush | null = null
  if (otlpConfig !== null) {
    let warnedExport = false
    push = startOtlpPush(otlpConfig, {
      registry,
      onExportFailure (err) {
        if (warnedExport) return
        warnedExport = true
        log.warn({ code: 'O11Y_ERR_METRICS_OTLP_EXPORT_FAILED', err, endpoint: otlpConfig.endpoint, protocol: otlpConfig.protocol },
          `${PLUGIN_NAME}: pushing metrics to ${otlpConfig.endpoint} over OTLP failed; failures are counted in ${METRIC_NAMES.otlpExportsTotal}, warned once`)
      },
      onCollectError (err) { reportError('collector', 'otlp', err) }
    })
    log.debug({ endpoint: otlpConfig.endpoint, protocol: otlpConfig.protocol, intervalMillis: otlpConfig.intervalMillis }, `${PLUGIN_NAME}: pushing metrics over OTLP`)
  }
  // --- cluster worker mode (cluster.ts) ------------------------------------------------------
  let clusterLink: ClusterWorkerLink | null = null
  if (opts.cluster) {
    if (cluster.isWorker && typeof process.send === 'function') {
      clusterLink = attachClusterWorker(registry, opts.endpoint?.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS, (err) => reportError('collector', 'cluster', err))
    } else {
      log.warn({ code: CLUSTER_NOT_WORKER_WARNING.code }, `${PLUGIN_NAME}: ${CLUSTER_NOT_WORKER_WARNING.message}`)
    }
  }

  // --- the scrape endpoint -------------------------------------------------------------------
  const endpoint = opts.endpoint
  if (endpoint !== null) {
    const scrape = createScraper({
      registry,
      auth: endpoint.auth,
      timeoutMs: endpoint.timeoutMs,
      minIntervalMs: endpoint.minIntervalMs,
      onBadValue,
      onScrapeError,
      onResult: (result) => scrapesTotal.inc(scrapeLabels[result]),
      ...(clusterLink !== null ? { render: clusterLink.render } : {})
    })
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
    if (push !== null) {
      // Last export first, while the registry still holds everything; bounded by shutdownTimeoutMillis.
      const p = push
      push = null
      if (!await p.shutdown()) {
        log.warn({ code: 'O11Y_ERR_METRICS_OTLP_SHUTDOWN_TIMEOUT', timeoutMillis: p.config.shutdownTimeoutMillis },
          `${PLUGIN_NAME}: the final OTLP metrics export did not finish within ${p.config.shutdownTimeoutMillis} ms; closing without it`)
      }
    }
    clusterLink?.close()
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
