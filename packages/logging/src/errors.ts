/**
 * Catalogue of @o11y/logging: every code is listed in docs/errors.md and the README. Errors are
 * thrown only while options are validated (logger creation, plugin registration); the codes marked
 * "Warning" are Node process warnings (type `O11yLoggingWarning`), given while the app runs and
 * never thrown.
 */
export const ERROR_CODES = {
  /** The options argument is not an object, or two options cannot be combined. */
  INVALID_OPTIONS: 'O11Y_ERR_LOGGING_INVALID_OPTIONS',
  /** An option name that this package does not know (usually a typo). */
  UNKNOWN_OPTION: 'O11Y_ERR_LOGGING_UNKNOWN_OPTION',
  /** `name` is not a non-empty string. */
  INVALID_NAME: 'O11Y_ERR_LOGGING_INVALID_NAME',
  /** `level` or `clientErrorLevel` is not a known level. */
  INVALID_LEVEL: 'O11Y_ERR_LOGGING_INVALID_LEVEL',
  /** `destination` is not a writable stream, a file descriptor or a file path; or `sync` is not a boolean. */
  INVALID_DESTINATION: 'O11Y_ERR_LOGGING_INVALID_DESTINATION',
  /** `redact` has the wrong shape, or `censor` / `replaceDefaults` the wrong type. */
  INVALID_REDACT: 'O11Y_ERR_LOGGING_INVALID_REDACT',
  /** One redaction path cannot be parsed. */
  INVALID_REDACT_PATH: 'O11Y_ERR_LOGGING_INVALID_REDACT_PATH',
  /** `base` is not a plain object or uses a field name the logger writes itself. */
  INVALID_BASE: 'O11Y_ERR_LOGGING_INVALID_BASE',
  /** `serializers` is not an object of functions. */
  INVALID_SERIALIZERS: 'O11Y_ERR_LOGGING_INVALID_SERIALIZERS',
  /** `logger` (fastifyLoggerOptions) is not a logger. */
  INVALID_LOGGER: 'O11Y_ERR_LOGGING_INVALID_LOGGER',
  /** `requestIdHeader` is not a header name or `false`. */
  INVALID_REQUEST_ID_HEADER: 'O11Y_ERR_LOGGING_INVALID_REQUEST_ID_HEADER',
  /** `maxBufferLength`, `maxLineBytes`, `dbErrorDetail` or `ignoreRoutes` has the wrong type or is out of range. */
  INVALID_OPTION_VALUE: 'O11Y_ERR_LOGGING_INVALID_OPTION_VALUE',
  /** Warning, once per logger: the destination's buffer is full; lines are dropped and counted. */
  DROPPED: 'O11Y_ERR_LOGGING_DROPPED',
  /** Warning, once per logger: a write failed (EPIPE, ECONNRESET, ...); the logger stops writing. */
  WRITE_FAILED: 'O11Y_ERR_LOGGING_WRITE_FAILED',
  /** `otlp` option or an OTEL_EXPORTER_OTLP_* variable has a bad value (endpoint, protocol, limits). */
  INVALID_OTLP: 'O11Y_ERR_LOGGING_INVALID_OTLP',
  /** Warning, once per logger: an OTLP log export failed or timed out; its records are lost and counted. */
  OTLP_EXPORT_FAILED: 'O11Y_ERR_LOGGING_OTLP_EXPORT_FAILED',
  /** Warning, once per logger: the OTLP export queue is full; records are dropped and counted. */
  OTLP_DROPPED: 'O11Y_ERR_LOGGING_OTLP_DROPPED',
  /** Warning, once per registration: the `ignoreRoutes` function threw; the route is logged. */
  IGNORE_ROUTES_FAILED: 'O11Y_ERR_LOGGING_IGNORE_ROUTES_FAILED'
} as const

export type LoggingErrorKey = keyof typeof ERROR_CODES
export type LoggingErrorCode = typeof ERROR_CODES[LoggingErrorKey]

/** What each code means, in one line (docs/errors.md says how to solve it). */
export const ERROR_MESSAGES: Readonly<Record<LoggingErrorKey, string>> = {
  INVALID_OPTIONS: 'the options are not an object, or two options cannot be combined',
  UNKNOWN_OPTION: 'an option name the package does not know',
  INVALID_NAME: '`name` is not a non-empty string',
  INVALID_LEVEL: '`level` or `clientErrorLevel` is not a known level',
  INVALID_DESTINATION: '`destination` is not a writable stream, a file descriptor or a file path that can be opened, or `sync` is not a boolean',
  INVALID_REDACT: '`redact` has the wrong shape, or `censor` / `replaceDefaults` the wrong type',
  INVALID_REDACT_PATH: 'a redaction path cannot be parsed',
  INVALID_BASE: '`base` is not a plain object or sets a field the logger writes itself',
  INVALID_SERIALIZERS: '`serializers` is not an object of functions',
  INVALID_LOGGER: '`logger` is not a pino logger',
  INVALID_REQUEST_ID_HEADER: '`requestIdHeader` is not a header name or false',
  INVALID_OPTION_VALUE: '`maxBufferLength`, `maxLineBytes`, `dbErrorDetail` or `ignoreRoutes` has the wrong type or is out of range',
  DROPPED: 'warning: the destination is not keeping up; lines are dropped and counted',
  WRITE_FAILED: 'warning: a write to the destination failed; the logger stops writing and counts the lines',
  INVALID_OTLP: 'the `otlp` option or an OTEL_EXPORTER_OTLP_* variable has a bad value',
  OTLP_EXPORT_FAILED: 'warning: an OTLP log export failed or timed out; its records are counted as failed',
  OTLP_DROPPED: 'warning: the OTLP export queue is full; records are dropped and counted',
  IGNORE_ROUTES_FAILED: 'warning: the ignoreRoutes function threw; the route is logged'
}

/** An Error with a stable `code`; `instanceof LoggingError` works in ESM and CJS alike. */
export class LoggingError extends Error {
  readonly code: LoggingErrorCode

  constructor (code: LoggingErrorCode, message: string) {
    super(`@o11y/logging: ${message}`)
    this.name = 'LoggingError'
    this.code = code
  }
}

/**
 * A Node process warning (printed on stderr by default, observable with `process.on('warning')`).
 * Telemetry problems at run time are reported this way, never raised.
 */
export function emitLoggingWarning (code: LoggingErrorCode, message: string): void {
  process.emitWarning(`@o11y/logging: ${message}`, { type: 'O11yLoggingWarning', code })
}

/** Renders a received value for an error message without dumping whole objects. */
export function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string': return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)
    case 'object': return 'an object'
    case 'function': return 'a function'
    case 'undefined': return 'undefined'
    default: return String(value)
  }
}
