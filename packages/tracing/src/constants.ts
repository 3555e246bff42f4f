/**
 * Every name a user, a dashboard or a backend sees: span names, attribute names, environment
 * variables, error codes and defaults. Documented in README.md; change nothing here silently.
 */

import {
  ATTR_CLIENT_ADDRESS, ATTR_CLIENT_PORT, ATTR_DB_QUERY_TEXT, ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_NETWORK_PROTOCOL_VERSION, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION, ATTR_URL_FULL, ATTR_URL_PATH, ATTR_URL_QUERY, ATTR_URL_SCHEME, ATTR_USER_AGENT_ORIGINAL,
  ATTR_DB_SYSTEM_NAME, SEMATTRS_DB_SYSTEM, SEMATTRS_HTTP_TARGET, SEMATTRS_HTTP_URL
} from '@opentelemetry/semantic-conventions'
import { DEFAULT_METRICS_PATH, HEALTH_ROUTES, KNOWN_HTTP_METHODS, OTHER_METHOD, SPAN_ATTRIBUTES, TRACING_RESOURCE_HOLDER } from '@o11y/semconv'

export const PACKAGE_NAME = '@o11y/tracing'
export const PLUGIN_NAME = '@o11y/tracing'
/** Name of the tracer that creates the SERVER span and the `withSpan` spans. */
export const TRACER_NAME = '@o11y/tracing'

/**
 * `globalThis[Symbol.for(RESOURCE_HOLDER)]` is the Resource of the running tracer provider (set by
 * startTracing, removed by its shutdown): @o11y/logging builds its OTLP records on it, so logs and
 * spans share service.name and service.instance.id without either package importing the other.
 */
export const RESOURCE_HOLDER = TRACING_RESOURCE_HOLDER

/** Semantic-convention attribute names (stable HTTP and general conventions) set on the SERVER span. */
export const ATTR = {
  HTTP_REQUEST_METHOD: ATTR_HTTP_REQUEST_METHOD,
  HTTP_REQUEST_METHOD_ORIGINAL: ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  HTTP_ROUTE: ATTR_HTTP_ROUTE,
  HTTP_RESPONSE_STATUS_CODE: ATTR_HTTP_RESPONSE_STATUS_CODE,
  URL_PATH: ATTR_URL_PATH,
  URL_QUERY: ATTR_URL_QUERY,
  URL_FULL: ATTR_URL_FULL,
  URL_SCHEME: ATTR_URL_SCHEME,
  SERVER_ADDRESS: ATTR_SERVER_ADDRESS,
  SERVER_PORT: ATTR_SERVER_PORT,
  CLIENT_ADDRESS: ATTR_CLIENT_ADDRESS,
  CLIENT_PORT: ATTR_CLIENT_PORT,
  USER_AGENT_ORIGINAL: ATTR_USER_AGENT_ORIGINAL,
  NETWORK_PROTOCOL_VERSION: ATTR_NETWORK_PROTOCOL_VERSION,
  ERROR_TYPE: ATTR_ERROR_TYPE,
  DB_QUERY_TEXT: ATTR_DB_QUERY_TEXT,
  DB_SYSTEM_NAME: ATTR_DB_SYSTEM_NAME,
  /** Not a semantic convention: the Fastify request id (`request.id`). */
  REQUEST_ID: SPAN_ATTRIBUTES.requestId,
  SERVICE_NAME: ATTR_SERVICE_NAME,
  SERVICE_VERSION: ATTR_SERVICE_VERSION
} as const

/**
 * Optional attribute groups of the SERVER span (`serverSpanAttributes`). The attributes the HTTP
 * server semantic conventions require (`http.request.method`, `url.path`, `url.scheme`,
 * `http.route`, `http.response.status_code`, `error.type`, `http.request.method_original`) are
 * always set; each of these adds the recommended or opt-in ones named beside it:
 * - `serverAddress`: `server.address` and `server.port` (from the `Host` header)
 * - `clientAddress`: `client.address` (`request.ip`)
 * - `clientPort`: `client.port` (the peer's port; opt-in in the conventions)
 * - `userAgent`: `user_agent.original`
 * - `protocolVersion`: `network.protocol.version`
 * - `requestId`: `http.request.id` (Fastify's request id; not a semantic convention)
 */
export const SERVER_SPAN_ATTRIBUTE_GROUPS = ['serverAddress', 'clientAddress', 'clientPort', 'userAgent', 'protocolVersion', 'requestId'] as const
export type ServerSpanAttributeGroup = typeof SERVER_SPAN_ATTRIBUTE_GROUPS[number]

/**
 * Names of the older semantic conventions that instrumentations on the previous line still set;
 * the sanitizer strips query strings and database error text from them too.
 */
export const LEGACY_ATTR = {
  HTTP_TARGET: SEMATTRS_HTTP_TARGET,
  HTTP_URL: SEMATTRS_HTTP_URL,
  DB_SYSTEM: SEMATTRS_DB_SYSTEM
} as const

/** Attributes on the span link to an untrusted caller's context. */
export const LINK_ATTR = {
  UNTRUSTED_PARENT: SPAN_ATTRIBUTES.linkUntrustedParent
} as const

/** `error.type` value when the client went away before the response was sent. */
export const ERROR_TYPE_ABORTED = 'aborted'
/** Method name used for anything outside the well-known HTTP methods (semantic conventions). */
export { OTHER_METHOD }
export const KNOWN_METHODS: ReadonlySet<string> = new Set(KNOWN_HTTP_METHODS)

/** Routes that are not traced unless `ignoreRoutes` says otherwise (matched against the route template). */
export const DEFAULT_IGNORE_ROUTES: readonly string[] = [DEFAULT_METRICS_PATH, ...HEALTH_ROUTES]

/** Standard OpenTelemetry environment variables read by `startTracing` and the register entry. */
export const ENV = {
  SDK_DISABLED: 'OTEL_SDK_DISABLED',
  SERVICE_NAME: 'OTEL_SERVICE_NAME',
  RESOURCE_ATTRIBUTES: 'OTEL_RESOURCE_ATTRIBUTES',
  TRACES_EXPORTER: 'OTEL_TRACES_EXPORTER',
  ENDPOINT: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  TRACES_ENDPOINT: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  PROTOCOL: 'OTEL_EXPORTER_OTLP_PROTOCOL',
  TRACES_PROTOCOL: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  TRACES_SAMPLER: 'OTEL_TRACES_SAMPLER',
  TRACES_SAMPLER_ARG: 'OTEL_TRACES_SAMPLER_ARG',
  BSP_SCHEDULE_DELAY: 'OTEL_BSP_SCHEDULE_DELAY',
  BSP_EXPORT_TIMEOUT: 'OTEL_BSP_EXPORT_TIMEOUT',
  BSP_MAX_QUEUE_SIZE: 'OTEL_BSP_MAX_QUEUE_SIZE',
  BSP_MAX_EXPORT_BATCH_SIZE: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  ATTRIBUTE_VALUE_LENGTH_LIMIT: 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  SPAN_ATTRIBUTE_COUNT_LIMIT: 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
  ATTRIBUTE_COUNT_LIMIT: 'OTEL_ATTRIBUTE_COUNT_LIMIT',
  SPAN_EVENT_COUNT_LIMIT: 'OTEL_SPAN_EVENT_COUNT_LIMIT',
  SPAN_LINK_COUNT_LIMIT: 'OTEL_SPAN_LINK_COUNT_LIMIT',
  EVENT_ATTRIBUTE_COUNT_LIMIT: 'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
  SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: 'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT',
  LINK_ATTRIBUTE_COUNT_LIMIT: 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
  SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT: 'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT',
  /** The level of the SDK's own `diag` output (to the console); unset means none. */
  LOG_LEVEL: 'OTEL_LOG_LEVEL',
  PROPAGATORS: 'OTEL_PROPAGATORS',
  /** Ours, not OpenTelemetry's: `false` makes every incoming traceparent untrusted (see trustIncomingContext). */
  TRUST_INCOMING_CONTEXT: 'O11Y_TRACING_TRUST_INCOMING_CONTEXT',
  NODE_RESOURCE_DETECTORS: 'OTEL_NODE_RESOURCE_DETECTORS'
} as const

export const EXPORTERS = ['otlp', 'console', 'none'] as const
export type ExporterName = typeof EXPORTERS[number]
export const PROTOCOLS = ['http/protobuf', 'grpc'] as const
export type Protocol = typeof PROTOCOLS[number]
export const SAMPLERS = [
  'always_on', 'always_off', 'traceidratio',
  'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'
] as const
export type SamplerName = typeof SAMPLERS[number]
/** OTEL_PROPAGATORS values the SDK provides (xray and ottrace need contrib packages). */
/** OTEL_LOG_LEVEL values (case-insensitive), as the SDK's diagLogLevelFromString knows them. */
export const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const
export type LogLevelName = typeof LOG_LEVELS[number]
export const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'none'] as const
export type PropagatorName = typeof PROPAGATORS[number]
/** OTEL_NODE_RESOURCE_DETECTORS values (the SDK's detectors plus the container detector). */
export const RESOURCE_DETECTORS = ['all', 'none', 'env', 'host', 'os', 'process', 'serviceinstance', 'container'] as const
export type ResourceDetectorName = typeof RESOURCE_DETECTORS[number]

export const DEFAULTS = {
  exporter: 'otlp' as ExporterName,
  protocol: 'http/protobuf' as Protocol,
  sampler: 'parentbased_always_on' as SamplerName,
  propagators: ['tracecontext', 'baggage'] as readonly PropagatorName[],
  resourceDetectors: ['all'] as readonly ResourceDetectorName[],
  samplerRatio: 1,
  /** The OTLP default endpoints (the collector on this host). */
  httpEndpoint: 'http://localhost:4318',
  grpcEndpoint: 'http://localhost:4317',
  httpTracesPath: '/v1/traces',
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 3000,
  shutdownTimeoutMillis: 3000,
  attributeValueLengthLimit: 2048,
  /** Optional SERVER span attributes set unless `serverSpanAttributes` says otherwise (every group but the opt-in `clientPort`). */
  serverSpanAttributes: ['serverAddress', 'clientAddress', 'userAgent', 'protocolVersion', 'requestId'] as readonly ServerSpanAttributeGroup[],
  /** A `traceparent` longer than this is not a W3C header (55 chars for version 00); ignore it. */
  maxTraceparentLength: 512
} as const

