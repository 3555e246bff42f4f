/**
 * Error catalogue of @o11y/logging. Every code is listed in docs/errors.md and the README.
 * Errors are thrown only while options are validated (logger creation, plugin registration).
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
  INVALID_REQUEST_ID_HEADER: 'O11Y_ERR_LOGGING_INVALID_REQUEST_ID_HEADER'
} as const

export type LoggingErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES]

/** An Error with a stable `code`; `instanceof LoggingError` works in ESM and CJS alike. */
export class LoggingError extends Error {
  readonly code: LoggingErrorCode

  constructor (code: LoggingErrorCode, message: string) {
    super(`@o11y/logging: ${message}`)
    this.name = 'LoggingError'
    this.code = code
  }
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
