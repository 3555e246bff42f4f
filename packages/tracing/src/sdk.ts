import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { context, diag, DiagConsoleLogger, propagation, trace, type Attributes, type TextMapPropagator } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  CompositePropagator, diagLogLevelFromString, W3CBaggagePropagator, W3CTraceContextPropagator
} from '@opentelemetry/core'
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation'
import {
  defaultResource, detectResources, hostDetector, osDetector, processDetector, serviceInstanceIdDetector,
  type ResourceDetector
} from '@opentelemetry/resources'
import { containerDetector } from '@opentelemetry/resource-detector-container'
import {
  AlwaysOffSampler, AlwaysOnSampler, ConsoleSpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type Sampler, type SpanExporter, type SpanProcessor
} from '@opentelemetry/sdk-trace'
import type { FastifyInstance } from 'fastify'
import { ATTR, DEFAULTS, RESOURCE_HOLDER, type PropagatorName, type Protocol, type ResourceDetectorName, type SamplerName } from './constants'
import { readEnv, tracesEndpointFor } from './env'
import { ERROR_CODES, safeLogger } from './errors'
import { validateStartOptions } from './options'
import { getActiveTracing, setActiveTracing } from './active'
import { installTracing } from './plugin'
import type { InstrumentationOptions, O11yTracingOptions, StartTracingOptions, TracingHandle } from './types'
import { BoundedBatchSpanProcessor } from './processor'
import { hookErrorCount } from './plugin'
import { SanitizingSpanProcessor } from './sanitize'
import type { ExportStats } from './types'

const noStats = (): ExportStats => ({ exported: 0, dropped: 0, failed: 0, queued: 0, hookErrors: hookErrorCount() })

function disabledHandle (): TracingHandle {
  return { enabled: false, provider: undefined, forceFlush: async () => {}, shutdown: async () => {}, stats: noStats }
}

/**
 * Start tracing for this process: a tracer provider with a bounded exporter, the W3C propagators,
 * the http (outgoing), fetch/undici and pg instrumentations, and the Fastify plugin on every new
 * Fastify instance. Configured from the OTEL_* variables; options given here win over them.
 */
export function startTracing (options: StartTracingOptions = {}): TracingHandle {
  validateStartOptions(options)
  const logger = safeLogger(options.logger)
  const existing = getActiveTracing()
  if (existing !== undefined) {
    logger.warn('tracing is already started in this process; returning the running instance', ERROR_CODES.ALREADY_STARTED)
    return existing
  }
  const env = readEnv(options.env ?? process.env, logger)
  if (options.disabled === true || (options.disabled === undefined && env.disabled)) return disabledHandle()

  const limits = {
    maxQueueSize: options.maxQueueSize ?? env.maxQueueSize ?? DEFAULTS.maxQueueSize,
    maxExportBatchSize: options.maxExportBatchSize ?? env.maxExportBatchSize ?? DEFAULTS.maxExportBatchSize,
    scheduledDelayMillis: options.scheduledDelayMillis ?? env.scheduledDelayMillis ?? DEFAULTS.scheduledDelayMillis,
    exportTimeoutMillis: options.exportTimeoutMillis ?? env.exportTimeoutMillis ?? DEFAULTS.exportTimeoutMillis
  }
  // Env and options may each set one of the two; the batch can never exceed the queue.
  limits.maxExportBatchSize = Math.min(limits.maxExportBatchSize, limits.maxQueueSize)
  const shutdownTimeoutMillis = options.shutdownTimeoutMillis ?? DEFAULTS.shutdownTimeoutMillis

  let batch: BoundedBatchSpanProcessor | undefined
  let spanProcessors: SpanProcessor[]
  if (options.spanProcessors !== undefined) {
    spanProcessors = options.spanProcessors
  } else {
    const exporters = options.exporter === undefined
      ? env.exporters
      : [options.exporter]
    spanProcessors = []
    const built = exporters.flatMap((e) => {
      if (typeof e !== 'string') return [e]
      if (e === 'none') return []
      if (e === 'console') return [new ConsoleSpanExporter()]
      const protocol = options.protocol ?? env.protocol
      // A base endpoint from the environment gets the path of the protocol actually used (an
      // options.protocol can differ from OTEL_EXPORTER_OTLP_PROTOCOL).
      const endpoint = options.endpoint ?? (env.baseEndpoint !== undefined ? tracesEndpointFor(protocol, env.baseEndpoint) : env.endpoint)
      return [createOtlpExporter(protocol, endpoint, limits.exportTimeoutMillis)]
    })
    if (built.length > 0) {
      batch = new BoundedBatchSpanProcessor(built.length === 1 ? built[0]! : fanOut(built), { ...limits, logger })
      spanProcessors.push(batch)
    }
  }

  const serviceName = options.serviceName ?? env.serviceName ?? env.resourceAttributes[ATTR.SERVICE_NAME]
  // Detected attributes first, then OTEL_RESOURCE_ATTRIBUTES, then the options: the last detector wins.
  const explicit: Attributes = {
    ...env.resourceAttributes,
    ...options.resourceAttributes,
    ...(serviceName !== undefined ? { [ATTR.SERVICE_NAME]: serviceName } : {}),
    ...(options.serviceVersion !== undefined ? { [ATTR.SERVICE_VERSION]: options.serviceVersion } : {})
  }
  const detectors = [...resourceDetectors(env.resourceDetectors), { detect: () => ({ attributes: explicit }) }]

  const settings = { captureQuery: options.captureQuery === true, dbErrorDetail: options.dbErrorDetail === true }
  const contextManager = new AsyncLocalStorageContextManager()
  const propagator = createPropagator(env.propagators)
  const instrumentations = createInstrumentations(options)
  // The pieces NodeSDK would assemble, from the same SDK packages, without importing
  // @opentelemetry/sdk-node: its one bundle loads every exporter it knows (gRPC, Zipkin,
  // Prometheus, metrics, logs, the declarative-config YAML parser) on import, about 0.25 s of
  // start-up on every process, for components this package never uses.
  if (env.logLevel !== undefined && env.logLevel !== 'none') diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(env.logLevel) })
  registerInstrumentations({ instrumentations })
  contextManager.enable()
  const ownsContext = context.setGlobalContextManager(contextManager)
  if (!ownsContext) contextManager.disable()
  const ownsPropagator = propagator !== null && propagation.setGlobalPropagator(propagator)
  const resource = defaultResource().merge(detectResources({ detectors }))
  const provider = new TracerProvider({
    resource,
    sampler: typeof options.sampler === 'object'
      ? options.sampler
      : createSampler(options.sampler ?? env.sampler, options.samplerRatio ?? env.samplerRatio),
    spanLimits: {
      ...env.spanLimits,
      attributeValueLengthLimit: options.attributeValueLengthLimit ?? env.attributeValueLengthLimit ?? DEFAULTS.attributeValueLengthLimit
    },
    // The sanitizer runs first (onEnding), so no processor or exporter sees query strings or DB error text.
    spanProcessors: [new SanitizingSpanProcessor(settings), ...spanProcessors]
  })
  const ownsProvider = trace.setGlobalTracerProvider(provider)
  if (!ownsProvider) {
    logger.warn('another OpenTelemetry tracer provider is already registered globally; spans go to that one', ERROR_CODES.PROVIDER_CONFLICT)
  }
  const holder = globalThis as Record<symbol, unknown>
  if (ownsProvider) holder[Symbol.for(RESOURCE_HOLDER)] = resource

  const fastifyOptions = options.fastify ?? true
  const FASTIFY_INIT = 'fastify.initialization'
  const onFastify = (message: unknown): void => {
    const instance = (message as { fastify?: FastifyInstance }).fastify
    if (instance !== undefined) installTracing(instance, fastifyOptions === true ? {} : fastifyOptions as O11yTracingOptions)
  }
  if (fastifyOptions !== false) subscribe(FASTIFY_INIT, onFastify)

  const bounded = <T>(work: Promise<T>, what: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logger.warn(`${what} did not finish within ${shutdownTimeoutMillis} ms; giving up (spans still queued are lost)`, ERROR_CODES.SHUTDOWN_TIMEOUT)
        resolve()
      }, shutdownTimeoutMillis)
      timer.unref()
    })
    return Promise.race([work.then(() => {}, () => {}), timeout]).finally(() => clearTimeout(timer))
  }

  let stopping: Promise<void> | undefined
  const handle: TracingHandle = {
    enabled: true,
    provider,
    forceFlush: () => stopping ?? bounded(provider.forceFlush(), 'flushing spans'),
    shutdown: () => {
      stopping ??= (async () => {
        if (fastifyOptions !== false) unsubscribe(FASTIFY_INIT, onFastify)
        for (const instrumentation of instrumentations) instrumentation.disable()
        await bounded(provider.shutdown(), 'tracing shutdown')
        if (ownsProvider) trace.disable()
        if (holder[Symbol.for(RESOURCE_HOLDER)] === resource) delete holder[Symbol.for(RESOURCE_HOLDER)]
        if (ownsContext) context.disable()
        if (ownsPropagator) propagation.disable()
        if (getActiveTracing() === handle) setActiveTracing(undefined)
      })()
      return stopping
    },
    settings,
    stats: () => ({ ...(batch?.stats() ?? noStats()), hookErrors: hookErrorCount() })
  }
  setActiveTracing(handle)
  return handle
}

const DETECTORS: Record<Exclude<ResourceDetectorName, 'all' | 'none'>, ResourceDetector> = {
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME: already read (and validated) by readEnv from
  // the environment startTracing was given; the SDK's envDetector would read process.env instead.
  env: { detect: () => ({}) },
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
  container: containerDetector
}

/** The SDK's detectors named by OTEL_NODE_RESOURCE_DETECTORS (already validated; default all). */
function resourceDetectors (names: readonly ResourceDetectorName[]): ResourceDetector[] {
  if (names.includes('none')) return []
  if (names.includes('all')) return Object.values(DETECTORS)
  return names.map((n) => DETECTORS[n as keyof typeof DETECTORS])
}

/** OTEL_PROPAGATORS (already validated): null for `none`, one propagator or a composite. */
export function createPropagator (names: readonly PropagatorName[]): TextMapPropagator | null {
  if (names.includes('none')) return null
  const list = names.map((name): TextMapPropagator => {
    switch (name) {
      case 'baggage': return new W3CBaggagePropagator()
      case 'b3':
      case 'b3multi': {
        // Loaded only when OTEL_PROPAGATORS asks for B3: most services never do.
        const b3 = require('@opentelemetry/propagator-b3') as typeof import('@opentelemetry/propagator-b3')
        return new b3.B3Propagator(name === 'b3' ? {} : { injectEncoding: b3.B3InjectEncoding.MULTI_HEADER })
      }
      default: return new W3CTraceContextPropagator()
    }
  })
  return list.length === 1 ? list[0]! : new CompositePropagator({ propagators: list })
}

function createInstrumentations (options: StartTracingOptions): Instrumentation[] {
  const given = options.instrumentations ?? {}
  const wanted: InstrumentationOptions = Array.isArray(given) ? { extra: given } : given
  const requireParent = options.requireParentSpan ?? true
  const list: Instrumentation[] = []
  if (wanted.http !== false) {
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http')
    // Incoming requests get their SERVER span from the Fastify plugin, which is much cheaper
    // than instrumentation-http's incoming path; http stays instrumented for outgoing calls.
    list.push(new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, requireParentforOutgoingSpans: requireParent }))
  }
  if (wanted.undici !== false) {
    const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici')
    list.push(new UndiciInstrumentation({ requireParentforSpans: requireParent }))
  }
  if (wanted.pg !== false) {
    const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg')
    list.push(new PgInstrumentation({ enhancedDatabaseReporting: options.pgParameterValues === true, requireParentSpan: requireParent }))
  }
  return [...list, ...(wanted.extra ?? [])]
}

function createOtlpExporter (protocol: Protocol, endpoint: string | undefined, timeoutMillis: number): SpanExporter {
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc')
    return new OTLPTraceExporter({ url: endpoint ?? DEFAULTS.grpcEndpoint, timeoutMillis })
  }
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto')
  return new OTLPTraceExporter({ url: endpoint ?? DEFAULTS.httpEndpoint + DEFAULTS.httpTracesPath, timeoutMillis })
}

export function createSampler (name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on': return new AlwaysOnSampler()
    case 'always_off': return new AlwaysOffSampler()
    case 'traceidratio': return new TraceIdRatioBasedSampler(ratio)
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

/** One exporter that sends every batch to several (OTEL_TRACES_EXPORTER=otlp,console). */
function fanOut (exporters: SpanExporter[]): SpanExporter {
  return {
    export (spans, done) {
      let pending = exporters.length
      let failed: Error | undefined
      for (const exporter of exporters) {
        exporter.export(spans, (result) => {
          if (result.code !== 0) failed ??= result.error ?? new Error('export failed')
          if (--pending === 0) done(failed === undefined ? { code: 0 } : { code: 1, error: failed })
        })
      }
    },
    async shutdown () { await Promise.all(exporters.map((e) => e.shutdown())) },
    async forceFlush () { await Promise.all(exporters.map((e) => e.forceFlush?.())) }
  }
}
