/**
 * Every name a user, a log pipeline or a dashboard sees is defined here once and documented in
 * the README (log fields table, redaction section).
 */

import { LOG_FIELDS, LOGGING_DROPPED_LINES_READER, REQUEST_LINE_MESSAGE, TRACING_RESOURCE_HOLDER, UNMATCHED_ROUTE } from '@o11y/semconv'

/** Field names of a log line (shared with the log pipeline and dashboards through @o11y/semconv). */
export { LOG_FIELDS }

/**
 * Fields written by the logger itself. A caller field or child binding with one of these names is
 * written as `_<name>` instead, so that input cannot forge or duplicate them.
 */
export const RECORD_FIELDS: readonly string[] = [
  LOG_FIELDS.timestamp,
  LOG_FIELDS.level,
  LOG_FIELDS.logger,
  LOG_FIELDS.traceId,
  LOG_FIELDS.spanId,
  LOG_FIELDS.traceFlags,
  LOG_FIELDS.truncated
]

/** Prefix given to caller fields that collide with {@link RECORD_FIELDS}. */
export const RENAMED_FIELD_PREFIX = '_'

/** Message of the one line written per request by the `o11yLogging` plugin. */
export const REQUEST_COMPLETED_MESSAGE = REQUEST_LINE_MESSAGE

/** `route` value when no route matched (404 handler). Same value as the metrics `route` label. */
export { UNMATCHED_ROUTE }

/** Name of a logger created without `name`. */
export const DEFAULT_LOGGER_NAME = 'app'

/** Level of a logger created without `level`. */
export const DEFAULT_LEVEL = 'info'

/** Levels accepted by the `level` option, most to least verbose (`silent` turns logging off). */
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

/** Level of the request line for 4xx responses unless `clientErrorLevel` says otherwise. */
export const DEFAULT_CLIENT_ERROR_LEVEL = 'info'

/** Header whose value becomes the request id when it is safe (see `REQUEST_ID_PATTERN`). */
export const DEFAULT_REQUEST_ID_HEADER = 'x-request-id'

/** An incoming request id is used only when it matches this: 1 to 128 characters of a safe set. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:/+=@-]{1,128}$/

/**
 * Default redaction patterns. Each is matched against every field name at any depth (and in
 * arrays), without regard to letter case; `*` stands for any run of characters and `?` for one
 * character. So `*token*` covers `token`, `access_token`, `refresh_token`, `x-auth-token`,
 * `csrfToken`; `*api?key*` and `*apikey*` cover `api_key`, `api-key`, `x-api-key`, `apiKey`;
 * `*authorization*` covers `proxy-authorization`. A matching value is replaced whole (an object or
 * array included). Remove one with `redact: { remove: ['*session*'] }`.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  '*authorization*',
  'cookie',
  'set-cookie',
  '*token*',
  '*secret*',
  '*passw*',
  '*api?key*',
  '*apikey*',
  '*private?key*',
  '*privatekey*',
  '*session*',
  '*credential*',
  'cardNumber',
  'card_number',
  'cvv'
]

/** Value written in place of a redacted field. */
export const DEFAULT_CENSOR = '[REDACTED]'

/**
 * Objects are inspected for redaction down to this nesting depth; a value nested deeper cannot be
 * checked, so it is written as {@link TRUNCATED} instead of being written unchecked.
 */
export const REDACT_MAX_DEPTH = 32

/** Written in place of values nested deeper than {@link REDACT_MAX_DEPTH}. */
export const TRUNCATED = '[Truncated]'

/** Written in place of a reference back to an enclosing object (the same text pino writes). */
export const CIRCULAR = '[Circular]'

/** Default `maxBufferLength`: characters queued and in flight before lines are dropped (2 Mi, about 2 MB of ASCII). */
export const DEFAULT_MAX_BUFFER_LENGTH = 2 * 1024 * 1024

/** Smallest `maxBufferLength` accepted: a buffer must hold at least one line of `maxLineBytes`. */
export const MIN_MAX_BUFFER_LENGTH = 64 * 1024

/** Default `maxLineBytes`: a line (newline included) is at most this many bytes (32 KiB). */
export const DEFAULT_MAX_LINE_BYTES = 32 * 1024

/** Smallest `maxLineBytes` accepted: room for the record's own fields and a shortened message. */
export const MIN_MAX_LINE_BYTES = 1024

/** Appended to a string value shortened to fit the line size cap. */
export const TRUNCATION_MARKER = '...[truncated]'

/** Longest delay between two retries of a write that got EAGAIN. */
export const MAX_RETRY_DELAY_MS = 1000

/**
 * `globalThis[Symbol.for(DROPPED_LINES_READER)]` is a function returning the number of lines every
 * @o11y/logging destination in the process has dropped; other packages read it without importing
 * this one (e.g. a `o11y_logging_dropped_lines_total` counter collected at scrape time).
 */
export const DROPPED_LINES_READER = LOGGING_DROPPED_LINES_READER

/** Where @o11y/tracing publishes its tracer provider's Resource: `globalThis[Symbol.for(TRACING_RESOURCE_HOLDER)]`. */
export { TRACING_RESOURCE_HOLDER }

/** Generic message of a database error whose text is withheld (`dbErrorDetail: false`). */
export const DB_ERROR_MESSAGE = 'database error'

/** Plugin name (fastify-plugin metadata). */
export const PLUGIN_NAME = '@o11y/logging'

/** Defaults of the `otlp` option (OTLP log export). */
export const OTLP_DEFAULTS = {
  protocol: 'http/protobuf',
  /** The OTLP default endpoints (a collector on this host). */
  httpEndpoint: 'http://localhost:4318',
  grpcEndpoint: 'http://localhost:4317',
  httpLogsPath: '/v1/logs',
  /** Records waiting for export; beyond it a record is dropped and counted (`otlpDropped`). */
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  /** One export (request and answer) gives up after this long and its records count as failed. */
  exportTimeoutMillis: 3000,
  /** Fastify `onClose` and `flushLogs` wait at most this long for queued records. */
  shutdownTimeoutMillis: 3000
} as const

/** Instrumentation scope name of the exported log records. */
export const OTLP_SCOPE_NAME = '@o11y/logging'

/**
 * Level label of a line -> OTLP SeverityNumber, per the OpenTelemetry logs data model
 * (pino trace 10, debug 20, info 30, warn 40, error 50, fatal 60).
 */
export const SEVERITY_NUMBERS: Readonly<Record<string, number>> = {
  TRACE: 1,
  DEBUG: 5,
  INFO: 9,
  WARN: 13,
  ERROR: 17,
  FATAL: 21
}
