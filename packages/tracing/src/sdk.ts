import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { hostname } from 'node:os'
import { context, propagation, trace, type Attributes } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation'
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler, AlwaysOnSampler, ConsoleSpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler,
  type Sampler, type SpanExporter, type SpanProcessor
} from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import type { FastifyInstance } from 'fastify'
import { ATTR, DEFAULTS, ERROR_CODES, type ExporterName, type Protocol, type SamplerName } from './constants'
import { readEnv, tracesEndpointFor } from './env'
import { safeLogger, type WarningLogger } from './errors'
import { validateStartOptions } from './options'
import { installTracing, type O11yTracingOptions } from './plugin'
import { BoundedBatchSpanProcessor, type ExportStats } from './processor'

export interface StartTracingOptions {
  /** `service.name`; overrides OTEL_SERVICE_NAME. */
  serviceName?: string
  /** `service.version`. */
  serviceVersion?: string
  /** Extra resource attributes; merged over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Attributes
  /** `otlp`, `console`, `none` or your own SpanExporter; overrides OTEL_TRACES_EXPORTER. */
  exporter?: ExporterName | SpanExporter
  /** OTLP protocol; overrides OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL. */
  protocol?: Protocol
  /** Full URL of the OTLP traces endpoint; overrides OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT. */
  endpoint?: string
  /** A sampler name (as in OTEL_TRACES_SAMPLER) or a Sampler; overrides the environment. */
  sampler?: SamplerName | Sampler
  /** Ratio for the traceidratio samplers; overrides OTEL_TRACES_SAMPLER_ARG. */
  samplerRatio?: number
  /** Replace the export pipeline (e.g. a SimpleSpanProcessor with an in-memory exporter in tests). */
  spanProcessors?: SpanProcessor[]
  maxQueueSize?: number
  maxExportBatchSize?: number
  scheduledDelayMillis?: number
  exportTimeoutMillis?: number
  /** Upper bound for `shutdown()` and for the flush in Fastify's onClose. */
  shutdownTimeoutMillis?: number
  attributeValueLengthLimit?: number
  /** Which instrumentations to enable (all by default). */
  instrumentations?: { http?: boolean, undici?: boolean, pg?: boolean }
  /** Put pg query parameter values on spans (`db.postgresql.values`). Off: statements carry placeholders only. */
  pgParameterValues?: boolean
  /** Create pg, http and fetch CLIENT spans only inside a traced request or span (default true). */
  requireParentSpan?: boolean
  /** Install the Fastify plugin on every Fastify instance created from now on (default true), with these plugin options. */
  fastify?: boolean | O11yTracingOptions
  /** Turn everything off (as OTEL_SDK_DISABLED=true). */
  disabled?: boolean
  /** Where warnings go (default: process warnings on stderr). */
  logger?: WarningLogger
  /** Environment to read (default process.env). */
  env?: Record<string, string | undefined>
}

export interface TracingHandle {
  /** False when tracing is disabled; the handle is then a no-op. */
  readonly enabled: boolean
  readonly provider: NodeTracerProvider | undefined
  /** Export what is queued; bounded by shutdownTimeoutMillis. */
  forceFlush (): Promise<void>
  /** Flush, stop exporting and unregister; bounded by shutdownTimeoutMillis; safe to call many times. */
  shutdown (): Promise<void>
  /** Export counters of the built-in batch processor (all zero with custom spanProcessors). */
  stats (): ExportStats
}

const kActive = Symbol.for('o11y.tracing.active')
type GlobalWithHandle = typeof globalThis & { [kActive]?: TracingHandle }

/** The handle of the tracing started by `startTracing` or the register entry, if any. */
export function getActiveTracing (): TracingHandle | undefined {
  return (globalThis as GlobalWithHandle)[kActive]
}

const noStats = (): ExportStats => ({ exported: 0, dropped: 0, failed: 0, queued: 0 })

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
  const resource = defaultResource().merge(resourceFromAttributes({
    'host.name': hostname(),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    ...env.resourceAttributes,
    ...options.resourceAttributes,
    ...(serviceName !== undefined ? { [ATTR.SERVICE_NAME]: serviceName } : {}),
    ...(options.serviceVersion !== undefined ? { [ATTR.SERVICE_VERSION]: options.serviceVersion } : {})
  }))

  const provider = new NodeTracerProvider({
    resource,
    sampler: typeof options.sampler === 'object'
      ? options.sampler
      : createSampler(options.sampler ?? env.sampler, options.samplerRatio ?? env.samplerRatio),
    spanLimits: { attributeValueLengthLimit: options.attributeValueLengthLimit ?? env.attributeValueLengthLimit ?? DEFAULTS.attributeValueLengthLimit },
    spanProcessors
  })

  const ownsProvider = trace.setGlobalTracerProvider(provider)
  if (!ownsProvider) {
    logger.warn('another OpenTelemetry tracer provider is already registered globally; spans go to that one', ERROR_CODES.PROVIDER_CONFLICT)
  }
  const contextManager = new AsyncLocalStorageContextManager().enable()
  const ownsContext = context.setGlobalContextManager(contextManager)
  if (!ownsContext) contextManager.disable()
  const ownsPropagator = propagation.setGlobalPropagator(new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()]
  }))

  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: createInstrumentations(options)
  })

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
        unregister()
        await bounded(provider.shutdown(), 'tracing shutdown')
        if (ownsProvider) trace.disable()
        if (ownsContext) context.disable()
        if (ownsPropagator) propagation.disable()
        if (getActiveTracing() === handle) delete (globalThis as GlobalWithHandle)[kActive]
      })()
      return stopping
    },
    stats: () => batch?.stats() ?? noStats()
  }
  ;(globalThis as GlobalWithHandle)[kActive] = handle
  return handle
}

function createInstrumentations (options: StartTracingOptions): Instrumentation[] {
  const wanted = options.instrumentations ?? {}
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
  return list
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
