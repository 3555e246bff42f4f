/**
 * Every name a user, a dashboard or a backend sees: span names, attribute names, environment
 * variables, error codes and defaults. Documented in README.md; change nothing here silently.
 */

export const PACKAGE_NAME = '@o11y/tracing'
export const PLUGIN_NAME = '@o11y/tracing'
/** Name of the tracer that creates the SERVER span and the `withSpan` spans. */
export const TRACER_NAME = '@o11y/tracing'

/** Semantic-convention attribute names (stable HTTP and general conventions) set on the SERVER span. */
export const ATTR = {
  HTTP_REQUEST_METHOD: 'http.request.method',
  HTTP_REQUEST_METHOD_ORIGINAL: 'http.request.method_original',
  HTTP_ROUTE: 'http.route',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  URL_PATH: 'url.path',
  URL_SCHEME: 'url.scheme',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  CLIENT_ADDRESS: 'client.address',
  USER_AGENT_ORIGINAL: 'user_agent.original',
  NETWORK_PROTOCOL_VERSION: 'network.protocol.version',
  ERROR_TYPE: 'error.type',
  /** Not a semantic convention: the Fastify request id (`request.id`). */
  REQUEST_ID: 'http.request.id',
  SERVICE_NAME: 'service.name',
  SERVICE_VERSION: 'service.version'
} as const

/** `error.type` value when the client went away before the response was sent. */
export const ERROR_TYPE_ABORTED = 'aborted'
/** Method name used for anything outside the well-known HTTP methods (semantic conventions). */
export const OTHER_METHOD = '_OTHER'
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY'
])

/** Routes that are not traced unless `ignoreRoutes` says otherwise (matched against the route template). */
export const DEFAULT_IGNORE_ROUTES: readonly string[] = [
  '/metrics',
  '/health', '/healthz', '/ready', '/readyz', '/live', '/livez',
  '/api/health', '/api/ready'
]

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
  ATTRIBUTE_VALUE_LENGTH_LIMIT: 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'
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

export const DEFAULTS = {
  exporter: 'otlp' as ExporterName,
  protocol: 'http/protobuf' as Protocol,
  sampler: 'parentbased_always_on' as SamplerName,
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
  /** A `traceparent` longer than this is not a W3C header (55 chars for version 00); ignore it. */
  maxTraceparentLength: 512
} as const

/** Error and warning codes; each is listed in docs/errors.md. */
export const ERROR_CODES = {
  INVALID_OPTION: 'O11Y_ERR_TRACING_INVALID_OPTION',
  INVALID_ENV: 'O11Y_ERR_TRACING_INVALID_ENV',
  ALREADY_STARTED: 'O11Y_ERR_TRACING_ALREADY_STARTED',
  PROVIDER_CONFLICT: 'O11Y_ERR_TRACING_PROVIDER_CONFLICT',
  QUEUE_FULL: 'O11Y_ERR_TRACING_QUEUE_FULL',
  EXPORT_FAILED: 'O11Y_ERR_TRACING_EXPORT_FAILED',
  SHUTDOWN_TIMEOUT: 'O11Y_ERR_TRACING_SHUTDOWN_TIMEOUT',
  PLUGIN_OPTION_IGNORED: 'O11Y_ERR_TRACING_PLUGIN_OPTION_IGNORED',
  IGNORE_ROUTES_FAILED: 'O11Y_ERR_TRACING_IGNORE_ROUTES_FAILED'
} as const
export type ErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES]
