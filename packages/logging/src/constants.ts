/**
 * Every name a user, a log pipeline or a dashboard sees is defined here once and documented in
 * the README (log fields table, redaction section).
 */

/** Field names of a log line. */
export const LOG_FIELDS = {
  /** ISO 8601 UTC time of the record, e.g. `2026-11-28T07:48:28.123Z`. */
  timestamp: 'timestamp',
  /** Level label in upper case: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`. */
  level: 'level',
  /** Name of the logger (`createLogger({ name })`, `getLogger(name)`). */
  logger: 'logger',
  /** The log message. */
  message: 'message',
  /** A serialized error (pino's error serializer: type, message, stack, cause, own fields). */
  error: 'err',
  /** 32 lowercase hex digits of the active span's trace id. */
  traceId: 'trace_id',
  /** 16 lowercase hex digits of the active span's id. */
  spanId: 'span_id',
  /** W3C trace flags of the active span as 2 hex digits: `01` sampled, `00` not sampled. */
  traceFlags: 'trace_flags',
  /** Request line: route template, `__unmatched__` when no route matched. */
  route: 'route',
  /** Request line: HTTP method. */
  method: 'method',
  /** Request line: HTTP status code of the response (number). */
  statusCode: 'status_code',
  /** Request line: time from request start to response end in milliseconds (number). */
  responseTimeMs: 'response_time_ms',
  /** Fastify's request id (incoming `x-request-id` when safe, else a generated UUID). */
  requestId: 'request_id'
} as const

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
  LOG_FIELDS.traceFlags
]

/** Prefix given to caller fields that collide with {@link RECORD_FIELDS}. */
export const RENAMED_FIELD_PREFIX = '_'

/** Message of the one line written per request by the `o11yLogging` plugin. */
export const REQUEST_COMPLETED_MESSAGE = 'request completed'

/** `route` value when no route matched (404 handler). Same value as the metrics `route` label. */
export const UNMATCHED_ROUTE = '__unmatched__'

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
 * Default redaction rules: each name is redacted wherever it appears, at any depth and in arrays,
 * so `authorization` covers `req.headers.authorization`, `res.headers.authorization`,
 * `headers.authorization` and a bare `authorization` field alike. Matching ignores case
 * (`Authorization`, `cardnumber`). A value is replaced whole (an object or array included).
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'password',
  'token',
  'secret',
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

/** Plugin name (fastify-plugin metadata). */
export const PLUGIN_NAME = '@o11y/logging'
