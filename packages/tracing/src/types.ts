/** Public types of @o11y/tracing (no runtime code: every module may import this one). */
import type { Attributes, Span } from '@opentelemetry/api'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import type { Sampler, SpanExporter, SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ExporterName, Protocol, SamplerName, ServerSpanAttributeGroup } from './constants'
import type { WarningLogger } from './errors'

/** Export counters of the built-in batch processor, and failures of user hooks. */
export interface ExportStats {
  /** Spans the exporter acknowledged. */
  exported: number
  /** Spans thrown away because the queue was full. */
  dropped: number
  /** Spans in batches that the exporter rejected or that timed out. */
  failed: number
  /** Spans waiting in the queue now. */
  queued: number
  /** Calls of requestHook, responseHook or a trustIncomingContext predicate that threw (caught; the request went on). */
  hookErrors: number
}

export interface O11yTracingOptions {
  /**
   * Routes (templates, e.g. `/metrics`) that get no spans at all, or a function deciding it.
   * Default: /metrics and the usual health routes (see README).
   */
  ignoreRoutes?: readonly string[] | ((route: string, method: string) => boolean)
  /**
   * Fastify `request` and `handler` spans through @fastify/otel (default false: one SERVER span
   * per request; the lifecycle spans triple span volume and cost about a third of tracing's time).
   */
  lifecycleSpans?: boolean
  /** One span per Fastify hook through @fastify/otel (default false: they cost time and say little). Implies lifecycleSpans. */
  hookSpans?: boolean
  /**
   * Whether the caller's `traceparent` (and baggage) is trusted (default true, or the
   * O11Y_TRACING_TRUST_INCOMING_CONTEXT variable). Untrusted: the request starts a new trace that
   * our sampler alone decides, with a span link to the caller's context. A function decides per
   * request, e.g. by a header only your gateway sets or by `request.socket.remoteAddress`.
   */
  trustIncomingContext?: boolean | ((request: FastifyRequest) => boolean)
  /**
   * Optional attribute groups of the SERVER span: any of `serverAddress` (`server.address`,
   * `server.port`), `clientAddress` (`client.address`), `clientPort` (`client.port`), `userAgent`
   * (`user_agent.original`), `protocolVersion` (`network.protocol.version`), `requestId`
   * (`http.request.id`). Default: all but `clientPort`. Each attribute costs time on every request
   * (the SDK checks every value when the span starts); `[]` keeps only the required attributes.
   */
  serverSpanAttributes?: readonly ServerSpanAttributeGroup[]
  /** Called with the SERVER span when the request starts (set attributes from the request). Guarded: a throw is caught, warned once, counted. */
  requestHook?: (span: Span, request: FastifyRequest) => void
  /** Called with the SERVER span just before it ends. Guarded like requestHook. */
  responseHook?: (span: Span, request: FastifyRequest, reply: FastifyReply) => void
}

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
  /**
   * Which built-in instrumentations to enable (all by default) and `extra` Instrumentation
   * instances of your own (e.g. `new RedisInstrumentation()`); an array is taken as `extra`.
   */
  instrumentations?: InstrumentationOptions | Instrumentation[]
  /** Put pg query parameter values on spans (`db.postgresql.values`). Off: statements carry placeholders only. */
  pgParameterValues?: boolean
  /** Create pg, http and fetch CLIENT spans only inside a traced request or span (default true). */
  requireParentSpan?: boolean
  /** Install the Fastify plugin on every Fastify instance created from now on (default true), with these plugin options. */
  fastify?: boolean | O11yTracingOptions
  /** Keep query strings on spans (`url.query`, and `?…` in url.path, url.full, http.target); default false. */
  captureQuery?: boolean
  /** Keep database error text on spans (it may quote parameter values); default false: code and class only. */
  dbErrorDetail?: boolean
  /** Turn everything off (as OTEL_SDK_DISABLED=true). */
  disabled?: boolean
  /** Where warnings go (default: process warnings on stderr). */
  logger?: WarningLogger
  /** Environment to read (default process.env). */
  env?: Record<string, string | undefined>
}

export interface InstrumentationOptions {
  http?: boolean
  undici?: boolean
  pg?: boolean
  /** More instrumentations, registered with the built-in ones. */
  extra?: Instrumentation[]
}

export interface TracingHandle {
  /** False when tracing is disabled; the handle is then a no-op. */
  readonly enabled: boolean
  readonly provider: TracerProvider | undefined
  /** Export what is queued; bounded by shutdownTimeoutMillis. */
  forceFlush (): Promise<void>
  /** Flush, stop exporting and unregister; bounded by shutdownTimeoutMillis; safe to call many times. */
  shutdown (): Promise<void>
  /** What startTracing decided that the Fastify plugin needs to know. */
  readonly settings?: { readonly dbErrorDetail: boolean, readonly captureQuery: boolean }
  /** Export counters of the built-in batch processor (zero with custom spanProcessors) and hook failures. */
  stats (): ExportStats
}

